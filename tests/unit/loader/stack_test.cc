// The initial stack image (sentry/loader/stack.h): decoded back the way
// a program's _start and ld.so read it.
#include "sentry/loader/stack.h"

#include <elf.h>

#include <cstring>
#include <map>

#include "gtest/gtest.h"

namespace palisade::loader {
namespace {

constexpr uint64_t kTop = 0x7bfffffff000;

// Reads an image as memory [sp, top).
class ImageReader {
 public:
  ImageReader(const StackImage& img, uint64_t top) : img_(img), top_(top) {}
  bool Contains(uint64_t a, size_t n) const { return a >= img_.sp && a + n <= top_; }
  uint64_t U64(uint64_t a) const {
    EXPECT_TRUE(Contains(a, 8)) << std::hex << a;
    uint64_t v = 0;
    if (Contains(a, 8)) std::memcpy(&v, img_.bytes.data() + (a - img_.sp), 8);
    return v;
  }
  std::string Str(uint64_t a) const {
    EXPECT_TRUE(Contains(a, 1)) << std::hex << a;
    if (!Contains(a, 1)) return "";
    return std::string(reinterpret_cast<const char*>(img_.bytes.data() + (a - img_.sp)));
  }
  const uint8_t* Raw(uint64_t a) const { return img_.bytes.data() + (a - img_.sp); }

 private:
  const StackImage& img_;
  uint64_t top_;
};

StackRequest BasicRequest() {
  StackRequest r;
  r.top = kTop;
  r.argv = {"/bin/prog", "-v", ""};
  r.envp = {"PATH=/bin", "HOME=/root"};
  r.execfn = "./prog";
  for (int i = 0; i < 16; i++) r.random[i] = static_cast<uint8_t>(i * 7 + 1);
  r.align_pad = 0;
  r.auxv = {{AT_PAGESZ, 4096}, {AT_RANDOM, 0}, {AT_EXECFN, 0}, {AT_PLATFORM, 0}, {AT_ENTRY, 0x401000}};
  return r;
}

TEST(StackTest, DecodesLikeStart) {
  StackRequest r = BasicRequest();
  auto img = BuildStackImage(r);
  ASSERT_TRUE(img.ok()) << img.error().Name();
  EXPECT_EQ(img->sp % 16, 0u);  // x86-64 ABI at process entry
  EXPECT_EQ(img->bytes.size(), kTop - img->sp);
  ImageReader m(*img, kTop);

  uint64_t a = img->sp;
  ASSERT_EQ(m.U64(a), 3u);  // argc
  a += 8;
  std::vector<std::string> argv;
  for (; m.U64(a) != 0; a += 8) argv.push_back(m.Str(m.U64(a)));
  a += 8;
  EXPECT_EQ(argv, r.argv);
  std::vector<std::string> envp;
  for (; m.U64(a) != 0; a += 8) envp.push_back(m.Str(m.U64(a)));
  a += 8;
  EXPECT_EQ(envp, r.envp);

  std::map<uint64_t, uint64_t> aux;
  std::vector<uint64_t> order;
  uint64_t auxv_addr = a;
  for (;; a += 16) {
    order.push_back(m.U64(a));
    aux[m.U64(a)] = m.U64(a + 8);
    if (m.U64(a) == AT_NULL) break;
  }
  EXPECT_EQ(order, (std::vector<uint64_t>{AT_PAGESZ, AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_ENTRY, AT_NULL}));
  EXPECT_EQ(aux[AT_PAGESZ], 4096u);
  EXPECT_EQ(aux[AT_ENTRY], 0x401000u);
  EXPECT_EQ(m.Str(aux[AT_EXECFN]), "./prog");
  EXPECT_EQ(m.Str(aux[AT_PLATFORM]), "x86_64");
  EXPECT_EQ(std::memcmp(m.Raw(aux[AT_RANDOM]), r.random.data(), 16), 0);
  EXPECT_EQ(aux[AT_EXECFN], img->execfn_addr);
  EXPECT_EQ(aux[AT_RANDOM], img->random_addr);
  EXPECT_EQ(aux[AT_PLATFORM], img->platform_addr);

  // The raw auxv is exactly the words on the stack.
  EXPECT_EQ(img->auxv.size(), order.size() * 16);
  EXPECT_EQ(std::memcmp(img->auxv.data(), m.Raw(auxv_addr), img->auxv.size()), 0);
}

TEST(StackTest, StringAreaLayout) {
  StackRequest r = BasicRequest();
  auto img = BuildStackImage(r);
  ASSERT_TRUE(img.ok());
  ImageReader m(*img, kTop);
  // From the top: 8 zero bytes, execfn, envp strings, argv strings.
  EXPECT_EQ(m.U64(kTop - 8), 0u);
  EXPECT_EQ(img->execfn_addr, kTop - 8 - 7);
  EXPECT_EQ(img->env_end, img->execfn_addr);
  EXPECT_EQ(img->env_start, img->env_end - (10 + 11));
  EXPECT_EQ(img->arg_end, img->env_start);
  EXPECT_EQ(img->arg_start, img->arg_end - (10 + 3 + 1));
  // /proc/pid/cmdline is exactly [arg_start, arg_end).
  std::string cmdline(reinterpret_cast<const char*>(m.Raw(img->arg_start)), img->arg_end - img->arg_start);
  EXPECT_EQ(cmdline, std::string("/bin/prog\0-v\0\0", 14));
  std::string environ(reinterpret_cast<const char*>(m.Raw(img->env_start)), img->env_end - img->env_start);
  EXPECT_EQ(environ, std::string("PATH=/bin\0HOME=/root\0", 21));
  // Platform string and random bytes sit between the strings and the tables.
  EXPECT_LT(img->platform_addr, img->arg_start);
  EXPECT_EQ(img->random_addr + 16, img->platform_addr);
}

TEST(StackTest, AlignmentHoldsForAnyPadAndCounts) {
  // sp must be 16-byte aligned whatever the string lengths, counts and pad.
  for (uint64_t pad : {0u, 1u, 8u, 15u, 4095u, 8191u}) {
    for (int argc = 0; argc < 4; argc++) {
      for (int envc = 0; envc < 3; envc++) {
        StackRequest r = BasicRequest();
        r.align_pad = pad;
        r.argv.assign(argc, std::string(argc + 1, 'a'));
        r.envp.assign(envc, std::string(envc + 2, 'e'));
        auto img = BuildStackImage(r);
        ASSERT_TRUE(img.ok());
        EXPECT_EQ(img->sp % 16, 0u) << pad << " " << argc << " " << envc;
        ImageReader m(*img, kTop);
        EXPECT_EQ(m.U64(img->sp), static_cast<uint64_t>(argc));
        // The pad moves the tables down by about that much.
        EXPECT_LE(img->platform_addr + 7 + pad, img->arg_start);
      }
    }
  }
}

TEST(StackTest, ArgLimits) {
  std::vector<std::string> none;
  EXPECT_TRUE(CheckArgLimits({"a"}, none, "/x").ok());
  // One string: up to MAX_ARG_STRLEN bytes including the NUL.
  EXPECT_TRUE(CheckArgLimits({std::string(kMaxArgStrLen - 1, 'a')}, none, "/x").ok());
  EXPECT_EQ(CheckArgLimits({std::string(kMaxArgStrLen, 'a')}, none, "/x"), Errno(E2BIG));
  EXPECT_EQ(CheckArgLimits({"a"}, {std::string(kMaxArgStrLen, 'e')}, "/x"), Errno(E2BIG));
  // The total: many strings each under the per-string limit.
  std::vector<std::string> big(17, std::string(kMaxArgStrLen - 1, 'b'));  // 17 * 128 KiB > 2 MiB
  EXPECT_EQ(CheckArgLimits(big, none, "/x"), Errno(E2BIG));
  big.resize(15);
  EXPECT_TRUE(CheckArgLimits(big, none, "/x").ok());
  // Pointers count too: 300k empty strings take 2.4 MB of pointers.
  std::vector<std::string> many(300000);
  EXPECT_EQ(CheckArgLimits(many, none, "/x"), Errno(E2BIG));

  StackRequest r = BasicRequest();
  r.envp.push_back(std::string(kMaxArgStrLen, 'z'));
  EXPECT_EQ(BuildStackImage(r).error(), Errno(E2BIG));
}

TEST(StackTest, LargeImageStaysWithinItsBounds) {
  StackRequest r = BasicRequest();
  r.argv.assign(15, std::string(kMaxArgStrLen - 1, 'q'));
  r.align_pad = 8191;
  auto img = BuildStackImage(r);
  ASSERT_TRUE(img.ok());
  EXPECT_LT(kTop - img->sp, (2u << 20) + 16384);
  ImageReader m(*img, kTop);
  EXPECT_EQ(m.U64(img->sp), 15u);
  EXPECT_EQ(m.Str(m.U64(img->sp + 8 * 15)).size(), kMaxArgStrLen - 1);
}

}  // namespace
}  // namespace palisade::loader
