// "#!" parsing and the interpreter loop (sentry/loader/shebang.h), with
// cases taken from fs/binfmt_script.c's rules.
#include "sentry/loader/shebang.h"

#include <map>

#include "gtest/gtest.h"

namespace palisade::loader {
namespace {

std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

ErrnoOr<Shebang> Parse(std::string_view s) { return ParseShebang(Bytes(s)); }

TEST(ShebangTest, InterpreterOnly) {
  auto sb = Parse("#!/bin/sh\necho hi\n");
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->interpreter, "/bin/sh");
  EXPECT_FALSE(sb->arg.has_value());
}

TEST(ShebangTest, BlanksAroundAndOneArgument) {
  auto sb = Parse("#! \t/usr/bin/env   python3 -u  \t\nprint(1)\n");
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->interpreter, "/usr/bin/env");
  // Everything after the name is ONE argument, inner blanks kept.
  EXPECT_EQ(sb->arg, "python3 -u");
}

TEST(ShebangTest, TrailingBlanksAreNoArgument) {
  auto sb = Parse("#!/bin/sh   \n");
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->interpreter, "/bin/sh");
  EXPECT_FALSE(sb->arg.has_value());
}

TEST(ShebangTest, CarriageReturnStaysInTheName) {
  // A DOS line ending is part of the path: the famous "/bin/sh^M: not found".
  auto sb = Parse("#!/bin/sh\r\n");
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->interpreter, "/bin/sh\r");
}

TEST(ShebangTest, NoNewlineInShortFile) {
  // The kernel's buffer is zero padded: the NUL ends the name.
  auto sb = Parse("#!/bin/true");
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->interpreter, "/bin/true");
}

TEST(ShebangTest, EmbeddedNulEndsStrings) {
  auto sb = Parse(std::string_view("#!/bin/sh\0ignored\n", 18));
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->interpreter, "/bin/sh");
  EXPECT_FALSE(sb->arg.has_value());

  sb = Parse(std::string_view("#!/bin/sh -e\0x\n", 15));
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->arg, "-e");

  // An argument that starts with NUL is an empty argument, still passed.
  sb = Parse(std::string_view("#!/bin/sh \0\0\n", 13));
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->arg, "");
}

TEST(ShebangTest, Malformed) {
  EXPECT_EQ(Parse("").error(), Errno(ENOEXEC));
  EXPECT_EQ(Parse("#").error(), Errno(ENOEXEC));
  EXPECT_EQ(Parse("# !/bin/sh\n").error(), Errno(ENOEXEC));
  EXPECT_EQ(Parse("#!\n").error(), Errno(ENOEXEC));
  EXPECT_EQ(Parse("#!   \t \n").error(), Errno(ENOEXEC));
  EXPECT_EQ(Parse("\x7f" "ELF").error(), Errno(ENOEXEC));
}

TEST(ShebangTest, NothingBeforeTheBufferPadding) {
  // With no newline the NUL padding ends an empty name: the kernel then
  // execs "" (the cwd, so EACCES); the loader does the same.
  for (std::string_view s : {"#!", "#!  \t  "}) {
    auto sb = Parse(s);
    ASSERT_TRUE(sb.ok()) << s;
    EXPECT_EQ(sb->interpreter, "");
    EXPECT_FALSE(sb->arg.has_value());
  }
}

TEST(ShebangTest, LongLines) {
  // A 300-byte interpreter name, no newline or blank within 256 bytes:
  // it may be truncated, so the kernel refuses it.
  std::string long_name = "#!/" + std::string(300, 'a') + "\n";
  EXPECT_EQ(Parse(long_name).error(), Errno(ENOEXEC));
  // All blanks up to the limit.
  EXPECT_EQ(Parse("#!" + std::string(300, ' ')).error(), Errno(ENOEXEC));

  // A short name followed by a long argument: the argument is cut at
  // byte 255 (the buffer's last byte is never part of it).
  std::string long_arg = "#!/bin/sh " + std::string(400, 'x') + "\n";
  auto sb = Parse(long_arg);
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->interpreter, "/bin/sh");
  EXPECT_EQ(sb->arg->size(), kBinprmBufSize - 1 - 10);

  // A newline exactly at byte 255 still counts as the line end.
  std::string edge = "#!/" + std::string(252, 'b') + "\n";
  ASSERT_EQ(edge.size(), 256u);
  sb = Parse(edge);
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ(sb->interpreter.size(), 253u);

  // Bytes past the first 256 are never looked at.
  std::vector<uint8_t> big = Bytes("#!/bin/sh\n" + std::string(1000, 'z'));
  EXPECT_TRUE(ParseShebang(big).ok());
}

TEST(ShebangTest, ScriptArgv) {
  Shebang sb{.interpreter = "/bin/sh", .arg = "-e"};
  EXPECT_EQ(ScriptArgv(sb, "./s.sh", {"s.sh", "a", "b"}),
            (std::vector<std::string>{"/bin/sh", "-e", "./s.sh", "a", "b"}));
  sb.arg.reset();
  EXPECT_EQ(ScriptArgv(sb, "/x/s", {"whatever"}), (std::vector<std::string>{"/bin/sh", "/x/s"}));
  EXPECT_EQ(ScriptArgv(sb, "/x/s", {}), (std::vector<std::string>{"/bin/sh", "/x/s"}));
}

// A fake filesystem of file heads for FollowShebangs.
class FakeFiles {
 public:
  void Add(const std::string& path, std::string head) { files_[path] = std::move(head); }
  ErrnoOr<std::vector<uint8_t>> Open(const std::string& path) {
    opened_.push_back(path);
    auto it = files_.find(path);
    if (it == files_.end()) return Errno(ENOENT);
    return Bytes(it->second);
  }
  std::vector<std::string> opened_;

 private:
  std::map<std::string, std::string> files_;
};

TEST(FollowShebangsTest, ElfNeedsNoLevels) {
  FakeFiles fs;
  std::vector<std::string> argv{"prog", "x"};
  auto n = FollowShebangs(Bytes("\x7f" "ELF..."), "/bin/prog", false, argv,
                          [&](const std::string& p) { return fs.Open(p); });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(argv, (std::vector<std::string>{"prog", "x"}));
  EXPECT_TRUE(fs.opened_.empty());
}

TEST(FollowShebangsTest, NestedScriptsRewriteArgvLikeLinux) {
  // Matches Linux 6.18: s1 -> s0 -> /bin/sh run as
  // [/bin/sh, /t/s0, /t/s1, x] (each level's path comes from the last).
  FakeFiles fs;
  fs.Add("/t/s0", "#!/bin/sh\n");
  fs.Add("/bin/sh", "\x7f" "ELF");
  std::vector<std::string> argv{"s1", "x"};
  auto n = FollowShebangs(Bytes("#!/t/s0\n"), "/t/s1", false, argv,
                          [&](const std::string& p) { return fs.Open(p); });
  ASSERT_TRUE(n.ok()) << n.error().Name();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(argv, (std::vector<std::string>{"/bin/sh", "/t/s0", "/t/s1", "x"}));
  EXPECT_EQ(fs.opened_, (std::vector<std::string>{"/t/s0", "/bin/sh"}));
}

TEST(FollowShebangsTest, DepthLimitMatchesLinux) {
  // Linux 6.18 runs five nested scripts and refuses six (checked natively).
  FakeFiles fs;
  fs.Add("/bin/elf", "\x7f" "ELF");
  std::string prev = "/bin/elf";
  for (int levels = 1; levels <= 7; levels++) {
    std::string head = "#!" + prev + "\n";
    std::vector<std::string> argv{"x"};
    auto n = FollowShebangs(Bytes(head), "/top", false, argv, [&](const std::string& p) { return fs.Open(p); });
    if (levels <= 5) {
      ASSERT_TRUE(n.ok()) << levels << ": " << n.error().Name();
      EXPECT_EQ(*n, levels);
    } else {
      EXPECT_EQ(n.error(), Errno(ELOOP)) << levels;
    }
    std::string next = "/s" + std::to_string(levels);
    fs.Add(next, head);
    prev = next;
  }
  // A script naming itself loops until the limit.
  fs.Add("/self", "#!/self\n");
  std::vector<std::string> argv{"x"};
  EXPECT_EQ(FollowShebangs(Bytes("#!/self\n"), "/self", false, argv,
                           [&](const std::string& p) { return fs.Open(p); })
                .error(),
            Errno(ELOOP));
}

TEST(FollowShebangsTest, Errors) {
  FakeFiles fs;
  std::vector<std::string> argv{"x"};
  auto open = [&](const std::string& p) { return fs.Open(p); };
  // Missing interpreter: open's ENOENT.
  EXPECT_EQ(FollowShebangs(Bytes("#!/nope\n"), "/s", false, argv, open).error(), Errno(ENOENT));
  // Malformed line.
  EXPECT_EQ(FollowShebangs(Bytes("#!\n"), "/s", false, argv, open).error(), Errno(ENOEXEC));
  // Script named by /dev/fd/N of an O_CLOEXEC fd: the interpreter could
  // not open it, so exec fails before opening the interpreter.
  fs.opened_.clear();
  EXPECT_EQ(FollowShebangs(Bytes("#!/bin/sh\n"), "/dev/fd/3", true, argv, open).error(), Errno(ENOENT));
  EXPECT_TRUE(fs.opened_.empty());
}

}  // namespace
}  // namespace palisade::loader
