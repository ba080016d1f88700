// A fixed-width set of system call numbers of the native architecture.
//
// Contract:
//  - Width is kSyscallWidth (512 on x86_64: every native number the kernel
//    defines today is below 512; x32 numbers carry bit 30 and are not native).
//  - Numbers >= kSyscallWidth are out of range: test() answers false for them,
//    set()/reset() and the range functions reject them with Errc::out_of_range.
//  - A plain value type (64 bytes), cheap to copy, no allocation.
#pragma once

#include "core/error.h"

#include <array>
#include <compare>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>

#if !defined(__x86_64__)
#error "syscg models the x86_64 system call table only"
#endif

namespace syscg {

inline constexpr unsigned kSyscallWidth = 512;

// x86_64 __NR_restart_syscall. Always allowed in every group: the kernel uses
// it to resume interrupted sleeps (clock_nanosleep, poll with a timeout), and
// syscg's own ptrace stops interrupt such sleeps. Denying it would break
// programs in ways that look unrelated to the policy.
inline constexpr unsigned kRestartSyscall = 219;

class SyscallSet {
  static constexpr unsigned kWordBits = 64;
  static constexpr unsigned kWords = kSyscallWidth / kWordBits;
  static_assert(kSyscallWidth % kWordBits == 0);

 public:
  constexpr SyscallSet() = default;

  static constexpr SyscallSet none() { return SyscallSet{}; }
  static constexpr SyscallSet all() {
    SyscallSet s;
    for (auto& w : s.words_) w = ~std::uint64_t{0};
    return s;
  }
  static constexpr bool in_range(std::uint64_t nr) { return nr < kSyscallWidth; }

  constexpr bool test(std::uint64_t nr) const noexcept {
    return in_range(nr) && ((words_[nr / kWordBits] >> (nr % kWordBits)) & 1U) != 0;
  }
  Status set(std::uint64_t nr);
  Status reset(std::uint64_t nr);
  // Inclusive range [first, last]; first > last is Errc::invalid.
  Status set_range(std::uint64_t first, std::uint64_t last);
  Status reset_range(std::uint64_t first, std::uint64_t last);

  constexpr SyscallSet operator~() const {
    SyscallSet r;
    for (unsigned i = 0; i < kWords; ++i) r.words_[i] = ~words_[i];
    return r;
  }
  constexpr SyscallSet& operator&=(const SyscallSet& o) {
    for (unsigned i = 0; i < kWords; ++i) words_[i] &= o.words_[i];
    return *this;
  }
  constexpr SyscallSet& operator|=(const SyscallSet& o) {
    for (unsigned i = 0; i < kWords; ++i) words_[i] |= o.words_[i];
    return *this;
  }
  friend constexpr SyscallSet operator&(SyscallSet a, const SyscallSet& b) { return a &= b; }
  friend constexpr SyscallSet operator|(SyscallSet a, const SyscallSet& b) { return a |= b; }
  friend constexpr bool operator==(const SyscallSet&, const SyscallSet&) = default;
  friend constexpr auto operator<=>(const SyscallSet&, const SyscallSet&) = default;  // for ordered maps

  // Removes every member of o from this set.
  constexpr SyscallSet& subtract(const SyscallSet& o) {
    for (unsigned i = 0; i < kWords; ++i) words_[i] &= ~o.words_[i];
    return *this;
  }
  constexpr bool is_subset_of(const SyscallSet& o) const {
    for (unsigned i = 0; i < kWords; ++i)
      if ((words_[i] & ~o.words_[i]) != 0) return false;
    return true;
  }
  constexpr std::size_t count() const {
    std::size_t n = 0;
    for (auto w : words_) n += static_cast<std::size_t>(std::popcount(w));
    return n;
  }
  constexpr bool empty() const { return count() == 0; }
  constexpr bool full() const { return *this == all(); }

  // Forward iteration over the members in ascending order.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = unsigned;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = unsigned;

    constexpr const_iterator() = default;
    constexpr unsigned operator*() const { return nr_; }
    constexpr const_iterator& operator++() {
      nr_ = set_->next_from(nr_ + 1);
      return *this;
    }
    constexpr const_iterator operator++(int) {
      auto old = *this;
      ++*this;
      return old;
    }
    friend constexpr bool operator==(const const_iterator& a, const const_iterator& b) { return a.nr_ == b.nr_; }

   private:
    friend class SyscallSet;
    constexpr const_iterator(const SyscallSet* s, unsigned nr) : set_(s), nr_(nr) {}
    const SyscallSet* set_ = nullptr;
    unsigned nr_ = kSyscallWidth;
  };
  constexpr const_iterator begin() const { return {this, next_from(0)}; }
  constexpr const_iterator end() const { return {this, kSyscallWidth}; }

 private:
  // The smallest member >= from, or kSyscallWidth.
  constexpr unsigned next_from(unsigned from) const {
    for (unsigned w = from / kWordBits; w < kWords; ++w) {
      std::uint64_t bits = words_[w];
      if (w == from / kWordBits) bits &= ~std::uint64_t{0} << (from % kWordBits);
      if (bits != 0) return w * kWordBits + static_cast<unsigned>(std::countr_zero(bits));
    }
    return kSyscallWidth;
  }

  std::array<std::uint64_t, kWords> words_{};
};

}  // namespace syscg
