// Internal to syscg::formats (oci_import.cc): the pieces of an OCI / Docker
// seccomp rule read one at a time — actions, argument conditions, Docker's
// includes/excludes. Pure; every malformed piece is Errc::invalid.
#pragma once

#include "core/error.h"
#include "core/formats/oci.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace syscg::formats::detail {

enum class Kind { allow, log, notify, trace, errno_ret, trap, kill };  // ascending restrictiveness (the kernel's)

struct Action {
  Kind kind = Kind::allow;
  int err = 0;       // the errno a denying action means (EPERM, or ENOSYS for TRACE, or errnoRet); 0 if it allows
  std::string name;  // as written: "SCMP_ACT_KILL"

  bool allows() const { return kind == Kind::allow || kind == Kind::log; }
  // Same verdict in syscg's terms (allowed, or denied with the same errno).
  bool same_verdict(const Action& o) const { return allows() == o.allows() && err == o.err; }
};

// `name` with its errnoRet (`errno_ret`: the JSON value, null when absent).
Result<Action> parse_action(const nlohmann::json& name, const nlohmann::json& errno_ret);
// What syscg does instead of an action it cannot take ("" when it takes it:
// ALLOW, ERRNO).
std::string substitute(const Action& a);
// "arg0 == 8 and arg1 & 0x7e020000 == 0"; Errc::invalid when not an array of objects.
Result<std::string> describe_args(const nlohmann::json& args);
// Whether Docker would keep the rule (its `includes` and `excludes`).
Result<bool> applies(const nlohmann::json& rule, const ImportOptions& options);
// "a, b, c" (the first few, then "and N more").
std::string name_list(const std::vector<std::string>& names);

}  // namespace syscg::formats::detail
