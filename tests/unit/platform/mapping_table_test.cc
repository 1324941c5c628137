// MappingTable, DiffTables and PtraceAddressSpace's change log, checked
// against a page-by-page model.
#include "platform/ptrace/mapping_table.h"

#include <sys/mman.h>

#include <map>
#include <random>

#include "gtest/gtest.h"
#include "platform/ptrace/address_space.h"

namespace palisade::platform {
namespace {

constexpr uint64_t P = 4096;

// Page model: page address -> (file offset, prot).
using Pages = std::map<uint64_t, std::pair<uint64_t, int>>;

Pages ToPages(const MappingTable& t) {
  Pages p;
  for (const auto& [a, m] : t.entries()) {
    for (uint64_t i = 0; i < m.len; i += P) p[a + i] = {m.offset + i, m.prot};
  }
  return p;
}

void ApplyOps(Pages& p, const std::vector<MemOp>& ops) {
  for (const MemOp& op : ops) {
    for (uint64_t i = 0; i < op.len; i += P) {
      if (op.kind == MemOp::Kind::kMap) {
        p[op.addr + i] = {op.offset + i, op.prot};
      } else {
        p.erase(op.addr + i);
      }
    }
  }
}

TEST(MappingTableTest, MapMergesContinuations) {
  MappingTable t;
  t.Map(0x10000, P, 0, PROT_READ);
  t.Map(0x11000, P, P, PROT_READ);      // continues it
  t.Map(0x12000, P, 5 * P, PROT_READ);  // file gap: separate
  t.Map(0x13000, P, 6 * P, PROT_WRITE); // prot differs: separate
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.entries().at(0x10000), (Mapping{2 * P, 0, PROT_READ}));
  t.Map(0x0f000, P, 0, PROT_READ);  // precedes, but offsets don't continue
  EXPECT_EQ(t.size(), 4u);
}

TEST(MappingTableTest, UnmapSplits) {
  MappingTable t;
  t.Map(0x10000, 8 * P, 0x100000, PROT_READ);
  t.Unmap(0x12000, 2 * P);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.entries().at(0x10000), (Mapping{2 * P, 0x100000, PROT_READ}));
  EXPECT_EQ(t.entries().at(0x14000), (Mapping{4 * P, 0x104000, PROT_READ}));
  t.Map(0x13000, 2 * P, 0x200000, PROT_WRITE);  // overlaps the hole and the tail
  EXPECT_EQ(t.entries().at(0x13000), (Mapping{2 * P, 0x200000, PROT_WRITE}));
  EXPECT_EQ(t.entries().at(0x15000), (Mapping{3 * P, 0x105000, PROT_READ}));
  t.Unmap(0, 0x100000);
  EXPECT_TRUE(t.empty());
}

TEST(MappingTableTest, CopyRangeClips) {
  MappingTable t, out;
  t.Map(0x10000, 4 * P, 0, PROT_READ);
  t.CopyRangeTo(Range{0x11000, 0x12000}, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.entries().at(0x11000), (Mapping{P, P, PROT_READ}));
}

TEST(DiffTablesTest, CoalescesAndSkipsMatches) {
  MappingTable have, want;
  have.Map(0x10000, 4 * P, 0, PROT_READ);
  want.Map(0x10000, 2 * P, 0, PROT_READ);        // unchanged
  want.Map(0x12000, 2 * P, 0x40000, PROT_READ);  // replaced
  want.Map(0x14000, 2 * P, 0x42000, PROT_READ);  // new, continues the above
  std::vector<MemOp> ops;
  DiffTables(have, want, {{0x10000, 0x20000}}, ops);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0], (MemOp{MemOp::Kind::kMap, 0x12000, 4 * P, 0x40000, PROT_READ}));
  ops.clear();
  DiffTables(want, MappingTable(), {{0x10000, 0x20000}}, ops);
  ASSERT_EQ(ops.size(), 1u);  // adjacent unmaps merge
  EXPECT_EQ(ops[0], (MemOp{MemOp::Kind::kUnmap, 0x10000, 6 * P, 0, 0}));
}

TEST(DiffTablesTest, RandomAgainstPageModel) {
  std::mt19937 rng(1);
  auto mutate = [&](MappingTable& t) {
    const uint64_t a = (rng() % 64) * P, n = (1 + rng() % 8) * P;
    if (rng() % 3 == 0) {
      t.Unmap(a, n);
    } else {
      t.Map(a, n, (rng() % 32) * P, rng() % 2 ? PROT_READ : PROT_READ | PROT_WRITE);
    }
  };
  for (int iter = 0; iter < 500; ++iter) {
    MappingTable have, want;
    for (int i = 0; i < 10; ++i) mutate(have);
    want = have;
    for (int i = 0; i < 6; ++i) mutate(want);
    std::vector<Range> ranges = {{(rng() % 32) * P, (32 + rng() % 48) * P},
                                 {(rng() % 16) * P, (rng() % 24) * P}};
    NormalizeRanges(ranges);
    MappingTable want_in;
    for (const Range& r : ranges) want.CopyRangeTo(r, want_in);
    std::vector<MemOp> ops;
    DiffTables(have, want_in, ranges, ops);
    Pages got = ToPages(have);
    ApplyOps(got, ops);
    // Inside the ranges: exactly want. Outside: untouched have.
    Pages expect = ToPages(have);
    for (const Range& r : ranges) {
      for (uint64_t a = r.start; a < r.end; a += P) expect.erase(a);
    }
    for (const auto& [a, v] : ToPages(want_in)) expect[a] = v;
    ASSERT_EQ(got, expect) << "iteration " << iter;
    for (size_t i = 1; i < ops.size(); ++i) {  // never two mergeable ops
      const MemOp& x = ops[i - 1];
      const MemOp& y = ops[i];
      EXPECT_FALSE(x.kind == y.kind && x.addr + x.len == y.addr &&
                   (x.kind == MemOp::Kind::kUnmap ||
                    (x.prot == y.prot && x.offset + x.len == y.offset)));
    }
  }
}

TEST(NormalizeRangesTest, SortsAndMerges) {
  std::vector<Range> r = {{5, 8}, {0, 2}, {2, 3}, {7, 9}, {4, 4}};
  NormalizeRanges(r);
  EXPECT_EQ(r, (std::vector<Range>{{0, 3}, {5, 9}}));
}

TEST(AddressSpaceDeltaTest, TracksChangesSinceAGeneration) {
  PtraceAddressSpace as(0x10000, 0x7c0000000000);
  EXPECT_EQ(as.generation(), 0u);
  ASSERT_TRUE(as.MapFile(0x10000, P, 0, PROT_READ).ok());
  const uint64_t g1 = as.generation();
  ASSERT_TRUE(as.MapFile(0x20000, 2 * P, P, PROT_READ).ok());
  as.Unmap(0x21000, P);
  AddressSpaceDelta d = as.DeltaSince(g1);
  EXPECT_FALSE(d.full);
  EXPECT_EQ(d.generation, as.generation());
  EXPECT_EQ(d.dirty, (std::vector<Range>{{0x20000, 0x22000}}));
  ASSERT_EQ(d.want.size(), 1u);
  EXPECT_EQ(d.want.entries().at(0x20000), (Mapping{P, P, PROT_READ}));
  EXPECT_TRUE(as.DeltaSince(as.generation()).dirty.empty());
  AddressSpaceDelta full = as.DeltaSince(PtraceAddressSpace::kFullSync);
  EXPECT_TRUE(full.full);
  EXPECT_EQ(full.want.size(), 2u);
}

TEST(AddressSpaceDeltaTest, TooOldIsFull) {
  PtraceAddressSpace as(0x10000, 0x7c0000000000);
  for (size_t i = 0; i < PtraceAddressSpace::kMaxLog + 1; ++i) {
    ASSERT_TRUE(as.MapFile(0x10000 + (i % 8) * P, P, 0, PROT_READ).ok());
  }
  EXPECT_TRUE(as.DeltaSince(0).full);
  EXPECT_FALSE(as.DeltaSince(2).full);
}

TEST(AddressSpaceDeltaTest, UnmapClipsToTheAppRange) {
  PtraceAddressSpace as(0x10000, 0x7c0000000000);
  as.Unmap(0, 0x20000);
  AddressSpaceDelta d = as.DeltaSince(0);
  EXPECT_EQ(d.dirty, (std::vector<Range>{{0x10000, 0x20000}}));
}

}  // namespace
}  // namespace palisade::platform
