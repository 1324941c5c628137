// PageBitmap: the per-page bits behind file population and mapping state.
#include "sentry/mm/page_bitmap.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace palisade {
namespace {

using Runs = std::vector<std::pair<uint64_t, uint64_t>>;

Runs RunsOf(const PageBitmap& b, bool v) {
  Runs r;
  b.ForEachRun(0, b.size(), v, [&](uint64_t a, uint64_t e) { r.emplace_back(a, e); });
  return r;
}

TEST(PageBitmapTest, SetFindAndRunsAcrossWords) {
  PageBitmap b(200);
  b.SetRange(3, 5, true);
  b.SetRange(60, 130, true);
  EXPECT_TRUE(b.Get(3));
  EXPECT_FALSE(b.Get(5));
  EXPECT_EQ(b.Find(0, 200, true), 3u);
  EXPECT_EQ(b.Find(5, 200, true), 60u);
  EXPECT_EQ(b.Find(60, 200, false), 130u);
  EXPECT_EQ(b.Find(131, 200, true), 200u);
  EXPECT_EQ(RunsOf(b, true), (Runs{{3, 5}, {60, 130}}));
  EXPECT_EQ(RunsOf(b, false), (Runs{{0, 3}, {5, 60}, {130, 200}}));
  b.SetRange(64, 128, false);
  EXPECT_EQ(RunsOf(b, true), (Runs{{3, 5}, {60, 64}, {128, 130}}));
  EXPECT_TRUE(b.All(60, 64, true));
  EXPECT_FALSE(b.All(60, 65, true));
}

TEST(PageBitmapTest, SliceAppendAndResizeKeepBits) {
  PageBitmap b(100);
  b.SetRange(10, 20, true);
  b.SetRange(70, 99, true);
  PageBitmap lo = b.Slice(0, 65), hi = b.Slice(65, 100);
  EXPECT_EQ(RunsOf(lo, true), (Runs{{10, 20}}));
  EXPECT_EQ(RunsOf(hi, true), (Runs{{5, 34}}));
  lo.Append(hi);
  EXPECT_EQ(lo.size(), 100u);
  EXPECT_EQ(RunsOf(lo, true), RunsOf(b, true));
  // Shrinking clears the dropped bits: growing again shows zeros there.
  b.Resize(75);
  b.Resize(128);
  EXPECT_EQ(RunsOf(b, true), (Runs{{10, 20}, {70, 75}}));
}

}  // namespace
}  // namespace palisade
