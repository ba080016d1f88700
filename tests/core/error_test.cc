#include "core/error.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <string_view>

namespace syscg {
namespace {

struct Mapping {
  Errc code;
  int errnum;
  std::string_view name;
};

constexpr Mapping kMappings[] = {
    {Errc::invalid, EINVAL, "EINVAL"},  {Errc::out_of_range, ERANGE, "ERANGE"}, {Errc::too_big, E2BIG, "E2BIG"},
    {Errc::permission, EPERM, "EPERM"}, {Errc::access, EACCES, "EACCES"},       {Errc::not_found, ENOENT, "ENOENT"},
    {Errc::no_process, ESRCH, "ESRCH"}, {Errc::exists, EEXIST, "EEXIST"},       {Errc::busy, EBUSY, "EBUSY"},
    {Errc::limit, EAGAIN, "EAGAIN"},    {Errc::not_dir, ENOTDIR, "ENOTDIR"},    {Errc::is_dir, EISDIR, "EISDIR"},
};

TEST(Error, EveryErrcMapsToItsErrno) {
  for (const auto& m : kMappings) {
    SCOPED_TRACE(m.name);
    EXPECT_EQ(to_errno(m.code), m.errnum);
  }
}

TEST(Error, EveryErrcHasItsErrnoName) {
  for (const auto& m : kMappings) EXPECT_EQ(errno_name(m.code), m.name);
}

TEST(Error, MappingIsInjective) {
  std::set<int> errnos;
  std::set<std::string_view> names;
  for (const auto& m : kMappings) {
    errnos.insert(to_errno(m.code));
    names.insert(errno_name(m.code));
  }
  EXPECT_EQ(errnos.size(), std::size(kMappings));
  EXPECT_EQ(names.size(), std::size(kMappings));
}

TEST(Error, MakeErrorKeepsCodeAndMessageAndEqualityComparesCodes) {
  const Error e = make_error(Errc::busy, "group has children");
  EXPECT_EQ(e.code, Errc::busy);
  EXPECT_EQ(e.message, "group has children");
  EXPECT_EQ(e, make_error(Errc::busy, "other text"));
  EXPECT_FALSE(e == make_error(Errc::exists, "group has children"));
}

TEST(Error, ResultCarriesValueOrError) {
  const Result<int> ok = 7;
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok.value(), 7);
  const Result<int> bad = make_error(Errc::limit, "depth");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::limit);
}

}  // namespace
}  // namespace syscg
