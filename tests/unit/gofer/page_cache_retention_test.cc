// Page cache retention: recently used rootfs page caches outlive their
// mappings up to the byte budget, least recently used evicted first.
#include "sentry/fsimpl/gofer/page_cache_retention.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "sentry/mm/memory_file.h"

namespace palisade::gofer {
namespace {

constexpr int64_t kChunk = FileMemory::kChunkSize;

// A cache of a `chunks`-chunk file with every chunk read in.
std::shared_ptr<FileMemory> FilledCache(MemoryFile& mf, int chunks) {
  auto c = FileMemory::NewImmutableCache(mf, chunks * kChunk, [](std::span<uint8_t> dst, int64_t) {
    std::memset(dst.data(), 'x', dst.size());
    return ErrnoOr<int64_t>(static_cast<int64_t>(dst.size()));
  });
  EXPECT_TRUE(c.ok());
  std::vector<uint8_t> buf(chunks * kChunk);
  EXPECT_EQ(*(*c)->Read(buf, 0), chunks * kChunk);  // reads every chunk in
  return *c;
}

TEST(PageCacheRetentionTest, KeepsRecentCachesWithinTheBudget) {
  auto mf = MemoryFile::Create(1ull << 30);
  ASSERT_TRUE(mf.ok());
  SetPageCacheRetention(3 * kChunk);
  auto a = FilledCache(**mf, 1), b = FilledCache(**mf, 1), c = FilledCache(**mf, 1);
  std::weak_ptr<FileMemory> wa = a, wb = b, wc = c;
  RetainPageCache(a);
  RetainPageCache(b);
  RetainPageCache(c);
  RetainPageCache(a);  // a is now the most recent, b the least
  a.reset();
  b.reset();
  c.reset();
  EXPECT_FALSE(wa.expired());  // nothing maps them: only retention holds them
  EXPECT_FALSE(wb.expired());
  EXPECT_EQ(RetainedPageCacheBytes(), 3 * kChunk);
  auto d = FilledCache(**mf, 1);
  RetainPageCache(d);  // over budget: b goes
  EXPECT_TRUE(wb.expired());
  EXPECT_FALSE(wa.expired());
  EXPECT_FALSE(wc.expired());
  SetPageCacheRetention(0);
  RetainPageCache(d);  // a zero budget keeps nothing
  EXPECT_TRUE(wa.expired());
  EXPECT_TRUE(wc.expired());
  EXPECT_EQ(RetainedPageCacheBytes(), 0);
  SetPageCacheRetention(-1);  // back to the default for other tests
}

}  // namespace
}  // namespace palisade::gofer
