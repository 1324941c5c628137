// ELF header validation (sentry/loader/elf.h): every rule against a
// synthetic image, then real binaries of this machine.
#include "sentry/loader/elf.h"

#include <elf.h>
#include <sys/mman.h>

#include "gtest/gtest.h"
#include "tests/unit/loader/test_elf.h"

namespace palisade::loader {
namespace {

using testing::ReadFile;
using testing::TestElf;

Errno ParseError(TestElf& e) { return ParseElfHeaders(e.Bytes()).error(); }

TEST(ElfTest, ValidSyntheticImage) {
  TestElf e;
  auto info = ParseElfHeaders(e.Bytes());
  ASSERT_TRUE(info.ok()) << info.error().Name();
  EXPECT_EQ(info->type, ET_EXEC);
  EXPECT_EQ(info->entry, 0x401000u);
  ASSERT_EQ(info->loads.size(), 2u);
  EXPECT_EQ(info->loads[0].prot, PROT_READ | PROT_EXEC);
  EXPECT_EQ(info->loads[1].prot, PROT_READ | PROT_WRITE);
  EXPECT_EQ(info->min_vaddr, 0x400000u);
  EXPECT_EQ(info->max_vaddr, 0x606000u);  // PageUp(0x602100 + 0x3000)
  // No PT_PHDR: the table at e_phoff 64 is in the first segment.
  EXPECT_EQ(info->phdr_vaddr, 0x400040u);
  EXPECT_FALSE(info->has_interp);
}

TEST(ElfTest, RejectsBadIdent) {
  struct Case {
    int index;
    uint8_t value;
  } cases[] = {{0, 0x7e}, {3, 'G'}, {EI_CLASS, ELFCLASS32}, {EI_DATA, ELFDATA2MSB}, {EI_VERSION, 0}};
  for (const Case& c : cases) {
    TestElf e;
    e.eh.e_ident[c.index] = c.value;
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC)) << "ident[" << c.index << "]";
  }
}

TEST(ElfTest, RejectsWrongMachineTypeAndVersion) {
  for (uint16_t m : {EM_386, EM_AARCH64, EM_NONE}) {
    TestElf e;
    e.eh.e_machine = m;
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC)) << "machine " << m;
  }
  for (uint16_t t : {ET_REL, ET_CORE, ET_NONE}) {
    TestElf e;
    e.eh.e_type = t;
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC)) << "type " << t;
  }
  TestElf e;
  e.eh.e_version = 2;
  EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
}

TEST(ElfTest, AcceptsEtDyn) {
  TestElf e;
  e.eh.e_type = ET_DYN;
  EXPECT_TRUE(ParseElfHeaders(e.Bytes()).ok());
}

TEST(ElfTest, RejectsBadProgramHeaderTable) {
  {
    TestElf e;
    e.eh.e_phentsize = 32;
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
  }
  {
    TestElf e;
    e.phdrs.clear();  // e_phnum 0
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
  }
  {
    TestElf e;
    e.eh.e_phoff = 0x2ff0;  // table runs past EOF
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
  }
  {
    TestElf e;
    e.eh.e_phoff = ~uint64_t{0} - 8;  // offset + size wraps
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
  }
  {
    TestElf e;
    for (auto& p : e.phdrs) p.p_type = PT_NOTE;  // nothing to load
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
  }
}

TEST(ElfTest, RejectsBadSegments) {
  {
    TestElf e;
    e.phdrs[1].p_filesz = e.phdrs[1].p_memsz + 1;
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
  }
  {
    TestElf e;
    e.phdrs[1].p_offset += 8;  // vaddr and offset no longer congruent
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
  }
  {
    TestElf e;
    e.phdrs[1].p_vaddr = kMaxUserAddress - 0x1000 + 0x100;  // ends past the user range
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
  }
  {
    TestElf e;
    e.phdrs[1].p_vaddr = ~uint64_t{0} - 0xfff + 0x100;  // vaddr + memsz wraps
    EXPECT_EQ(ParseError(e), Errno(ENOEXEC));
  }
}

TEST(ElfTest, TruncatedFiles) {
  TestElf e;
  std::vector<uint8_t> full = e.Bytes();
  // Shorter than the ELF header, shorter than the table, and cutting a segment.
  for (size_t n : {size_t{0}, size_t{4}, size_t{63}, size_t{64}, size_t{100}, size_t{0x2800}}) {
    std::span<const uint8_t> cut(full.data(), n);
    EXPECT_EQ(ParseElfHeaders(cut).error(), Errno(ENOEXEC)) << n << " bytes";
  }
}

TEST(ElfTest, Interpreter) {
  TestElf e;
  e.AddInterp("/lib64/ld-linux-x86-64.so.2");
  auto info = ParseElfHeaders(e.Bytes());
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->has_interp);
  EXPECT_EQ(info->interp, "/lib64/ld-linux-x86-64.so.2");

  TestElf no_nul;
  no_nul.AddInterp("/lib/ld.so", /*drop_nul=*/true);
  EXPECT_EQ(ParseError(no_nul), Errno(ENOEXEC));

  TestElf tiny;
  tiny.AddInterp("");  // one byte: below the minimum of 2
  EXPECT_EQ(ParseError(tiny), Errno(ENOEXEC));

  TestElf past_eof;
  past_eof.AddInterp("/lib/ld.so");
  past_eof.phdrs.back().p_offset = past_eof.size - 4;
  EXPECT_EQ(ParseError(past_eof), Errno(ENOEXEC));
}

TEST(ElfTest, PtPhdrWinsAndGnuStackIsRecorded) {
  TestElf e;
  Elf64_Phdr ph{};
  ph.p_type = PT_PHDR;
  ph.p_vaddr = 0x400040;
  Elf64_Phdr st{};
  st.p_type = PT_GNU_STACK;
  st.p_flags = PF_R | PF_W | PF_X;
  e.phdrs.insert(e.phdrs.begin(), ph);
  e.phdrs.push_back(st);
  auto info = ParseElfHeaders(e.Bytes());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->phdr_vaddr, 0x400040u);
  EXPECT_TRUE(info->exec_stack);
}

TEST(ElfTest, HugeAlignmentIsCapped) {
  TestElf e;
  e.phdrs[0].p_align = 0x200000;
  e.phdrs[1].p_align = 3;  // not a power of two: ignored
  EXPECT_EQ(ParseElfHeaders(e.Bytes())->max_align, 0x200000u);
  e.phdrs[0].p_align = 1ull << 40;
  EXPECT_EQ(ParseElfHeaders(e.Bytes())->max_align, kPageSize);
}

TEST(ElfTest, TwoStepParseMatchesWholeFile) {
  TestElf e;
  e.AddInterp("/lib/ld.so");
  std::vector<uint8_t> b = e.Bytes();
  auto h = ParseElfHeader(std::span<const uint8_t>(b).first(kElfHeaderSize), b.size());
  ASSERT_TRUE(h.ok());
  auto info = ParseProgramHeaders(*h, std::span<const uint8_t>(b).subspan(h->phoff, h->PhdrBytes()), b.size());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->interp_offset, 0x1000u);
  EXPECT_EQ(info->interp_size, 11u);
  // A short table buffer is refused rather than read past.
  EXPECT_EQ(ParseProgramHeaders(*h, std::span<const uint8_t>(b).subspan(h->phoff, 10), b.size()).error(),
            Errno(ENOEXEC));
}

// --- Real files on this machine.

TEST(ElfHostFilesTest, StaticBusybox) {
  auto f = ReadFile("/bin/busybox");
  if (!f) GTEST_SKIP() << "no /bin/busybox";
  auto info = ParseElfHeaders(*f);
  ASSERT_TRUE(info.ok()) << info.error().Name();
  if (info->type != ET_EXEC) GTEST_SKIP() << "busybox here is not a static ET_EXEC";
  EXPECT_FALSE(info->has_interp);
  EXPECT_GE(info->loads.size(), 2u);
  EXPECT_NE(info->phdr_vaddr, 0u);  // found through the PT_LOAD holding e_phoff
  EXPECT_GE(info->entry, info->min_vaddr);
  EXPECT_LT(info->entry, info->max_vaddr);
}

TEST(ElfHostFilesTest, DynamicWithInterpreter) {
  for (const char* path : {"/usr/bin/python3", "/bin/ls", "/bin/sh"}) {
    auto f = ReadFile(path);
    if (!f) continue;
    auto info = ParseElfHeaders(*f);
    ASSERT_TRUE(info.ok()) << path << ": " << info.error().Name();
    EXPECT_TRUE(info->type == ET_EXEC || info->type == ET_DYN) << path;
    EXPECT_TRUE(info->has_interp) << path;
    EXPECT_EQ(info->interp.front(), '/') << path;
    EXPECT_NE(info->phdr_vaddr, 0u) << path;
  }
}

TEST(ElfHostFilesTest, DynamicLinkerItself) {
  auto f = ReadFile("/lib64/ld-linux-x86-64.so.2");
  if (!f) GTEST_SKIP() << "no ld.so";
  auto info = ParseElfHeaders(*f);
  ASSERT_TRUE(info.ok()) << info.error().Name();
  EXPECT_EQ(info->type, ET_DYN);
  EXPECT_FALSE(info->has_interp);
  EXPECT_EQ(info->min_vaddr, 0u);
}

TEST(ElfHostFilesTest, TruncatedCopiesAndNonElf) {
  auto f = ReadFile("/bin/busybox");
  if (!f) GTEST_SKIP() << "no /bin/busybox";
  // Headers intact but segments cut, headers cut, the magic only.
  for (size_t n : {size_t{4096}, size_t{100}, size_t{4}}) {
    std::span<const uint8_t> cut(f->data(), n);
    EXPECT_EQ(ParseElfHeaders(cut).error(), Errno(ENOEXEC)) << n;
  }
  std::string text = "root:x:0:0:root:/root:/bin/sh\n";
  EXPECT_EQ(ParseElfHeaders(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())).error(),
            Errno(ENOEXEC));
  std::string script = "#!/bin/sh\necho hi\n";
  EXPECT_EQ(ParseElfHeaders(std::span(reinterpret_cast<const uint8_t*>(script.data()), script.size())).error(),
            Errno(ENOEXEC));
  if (auto passwd = ReadFile("/etc/passwd")) {
    EXPECT_EQ(ParseElfHeaders(*passwd).error(), Errno(ENOEXEC));
  }
}

}  // namespace
}  // namespace palisade::loader
