#include "sentry/loader/stack.h"

#include <elf.h>

#include <cstring>

namespace palisade::loader {
namespace {

// Places bytes below a downward-moving cursor, like the kernel's
// STACK_ALLOC on a grows-down stack, into an image that ends at `top`.
class DownwardWriter {
 public:
  DownwardWriter(uint64_t top, uint64_t bottom) : top_(top), p_(top), bytes_(top - bottom) {}
  uint64_t p() const { return p_; }
  void Skip(uint64_t n) { p_ -= n; }
  void AlignDown(uint64_t a) { p_ &= ~(a - 1); }
  // Copies n bytes just below the cursor; returns their address.
  uint64_t Push(const void* src, size_t n) {
    p_ -= n;
    std::memcpy(At(p_), src, n);
    return p_;
  }
  uint64_t PushString(const std::string& s) { return Push(s.c_str(), s.size() + 1); }
  void Put64(uint64_t addr, uint64_t v) { std::memcpy(At(addr), &v, sizeof(v)); }
  // The image [p, top), once everything is placed.
  std::vector<uint8_t> Take() && {
    bytes_.erase(bytes_.begin(), bytes_.begin() + (bytes_.size() - (top_ - p_)));
    return std::move(bytes_);
  }

 private:
  uint8_t* At(uint64_t addr) { return bytes_.data() + (bytes_.size() - (top_ - addr)); }
  uint64_t top_, p_;
  std::vector<uint8_t> bytes_;
};

// Strings are copied last-to-first, so they end up in order in memory.
// Returns the address of the first one (the range start).
uint64_t PushStrings(DownwardWriter& w, const std::vector<std::string>& v) {
  for (size_t i = v.size(); i-- > 0;) w.PushString(v[i]);
  return w.p();
}

}  // namespace

Errno CheckArgLimits(const std::vector<std::string>& argv, const std::vector<std::string>& envp,
                     std::string_view execfn) {
  uint64_t strings = execfn.size() + 1;
  for (const auto* v : {&argv, &envp}) {
    for (const std::string& s : *v) {
      if (s.size() + 1 > kMaxArgStrLen) return Errno(E2BIG);
      strings += s.size() + 1;
    }
  }
  uint64_t pointers = ((argv.empty() ? 1 : argv.size()) + envp.size()) * sizeof(uint64_t);
  if (pointers >= kArgSpaceLimit || strings > kArgSpaceLimit - pointers) return Errno(E2BIG);
  return Errno::Ok();
}

ErrnoOr<StackImage> BuildStackImage(const StackRequest& r) {
  PAL_TRY_ERRNO(CheckArgLimits(r.argv, r.envp, r.execfn));

  // Upper bound of the image: strings, pad, the tables and alignment slack.
  uint64_t strings = 8 + r.execfn.size() + 1 + r.platform.size() + 1 + r.random.size();
  for (const auto* v : {&r.argv, &r.envp})
    for (const std::string& s : *v) strings += s.size() + 1;
  uint64_t words = 1 + (r.argv.size() + 1) + (r.envp.size() + 1) + 2 * (r.auxv.size() + 1);
  uint64_t max_size = strings + r.align_pad + 16 + words * 8 + 16;
  DownwardWriter w(r.top, r.top - max_size);

  StackImage img;
  w.Skip(8);  // a NULL word at the very top, as bprm->p starts there
  img.execfn_addr = w.PushString(r.execfn);
  img.env_end = w.p();
  img.env_start = PushStrings(w, r.envp);
  img.arg_end = w.p();
  img.arg_start = PushStrings(w, r.argv);

  w.Skip(r.align_pad);
  w.AlignDown(16);
  img.platform_addr = w.PushString(r.platform);
  img.random_addr = w.Push(r.random.data(), r.random.size());

  std::vector<AuxEntry> auxv = r.auxv;
  for (AuxEntry& e : auxv) {
    if (e.type == AT_EXECFN) e.value = img.execfn_addr;
    if (e.type == AT_PLATFORM) e.value = img.platform_addr;
    if (e.type == AT_RANDOM) e.value = img.random_addr;
  }
  auxv.push_back({AT_NULL, 0});

  // STACK_ROUND: the pointer block is placed so that sp (argc) is 16-byte
  // aligned, as the x86-64 ABI requires at process entry.
  uint64_t table_words = 1 + (r.argv.size() + 1) + (r.envp.size() + 1) + 2 * auxv.size();
  uint64_t sp = (w.p() - table_words * 8) & ~uint64_t{15};
  w.Skip(w.p() - sp);
  img.sp = sp;

  uint64_t a = sp;
  auto put = [&](uint64_t v) {
    w.Put64(a, v);
    a += 8;
  };
  put(r.argv.size());
  for (uint64_t s = img.arg_start; const std::string& arg : r.argv) {
    put(s);
    s += arg.size() + 1;
  }
  put(0);
  for (uint64_t s = img.env_start; const std::string& env : r.envp) {
    put(s);
    s += env.size() + 1;
  }
  put(0);
  uint64_t auxv_addr = a;
  for (const AuxEntry& e : auxv) {
    put(e.type);
    put(e.value);
  }

  img.bytes = std::move(w).Take();
  const uint8_t* raw = img.bytes.data() + (auxv_addr - sp);
  img.auxv.assign(reinterpret_cast<const char*>(raw), auxv.size() * 16);
  return img;
}

}  // namespace palisade::loader
