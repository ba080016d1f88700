// from_oci (oci.h): reads a profile rule by rule; the pieces of a rule are
// read in oci_rules.cc.
#include "core/formats/oci.h"
#include "core/formats/oci_rules.h"

#include "core/syscall_table.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <utility>

namespace syscg::formats {

namespace {

using detail::Action;

constexpr unsigned kClone3 = 435;

Error invalid(std::string message) { return make_error(Errc::invalid, std::move(message)); }

// One line, whatever the JSON library put in its message.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

// The architectures other than x86_64 the profile names (for its dropped line).
Result<std::vector<std::string>> foreign_arches(const nlohmann::json& p) {
  const auto arches = p.find("architectures");
  const auto map = p.find("archMap");
  const bool has_arches = arches != p.end() && !arches->is_null() && !arches->empty();
  const bool has_map = map != p.end() && !map->is_null() && !map->empty();
  if (has_arches && has_map) return invalid("the profile has both 'architectures' and 'archMap'");
  std::vector<std::string> out;
  if (has_arches) {
    if (!arches->is_array()) return invalid("'architectures' is not an array");
    for (const auto& a : *arches)
      if (a.get<std::string>() != "SCMP_ARCH_X86_64") out.push_back(a.get<std::string>());
  } else if (has_map) {
    if (!map->is_array()) return invalid("'archMap' is not an array");
    for (const auto& entry : *map) {
      if (entry.value("architecture", std::string()) != "SCMP_ARCH_X86_64") continue;
      const auto subs = entry.find("subArchitectures");
      if (subs == entry.end() || subs->is_null()) continue;
      for (const auto& a : *subs) out.push_back(a.get<std::string>());
    }
  }
  return out;
}

Result<std::vector<std::string>> rule_names(const nlohmann::json& rule, std::size_t i) {
  const auto names = rule.find("names");
  const auto name = rule.find("name");
  const bool has_names = names != rule.end() && !names->is_null();
  const bool has_name =
      name != rule.end() && !name->is_null() && !(name->is_string() && name->get<std::string>().empty());
  if (has_names && has_name) return invalid(fmt::format("syscalls[{}] has both 'name' and 'names'", i));
  std::vector<std::string> out;
  if (has_name) {
    if (!name->is_string()) return invalid(fmt::format("syscalls[{}].name is not a string", i));
    out.push_back(name->get<std::string>());
  } else if (has_names) {
    if (!names->is_array()) return invalid(fmt::format("syscalls[{}].names is not an array", i));
    for (const auto& n : *names) {
      if (!n.is_string()) return invalid(fmt::format("syscalls[{}].names has an entry that is not a string", i));
      out.push_back(n.get<std::string>());
    }
  }
  return out;
}

// The profile's verdict per number, built rule by rule.
class Verdicts {
 public:
  explicit Verdicts(Action fallback) : default_(std::move(fallback)) {}
  const Action& fallback() const { return default_; }
  // The most restrictive action naming a number wins (the kernel's precedence).
  void add(unsigned nr, const Action& a) {
    auto& slot = by_nr_[nr];
    if (!slot || a.kind > slot->kind) slot = a;
  }
  const Action& of(unsigned nr) const { return by_nr_[nr] ? *by_nr_[nr] : default_; }

 private:
  Action default_;
  std::array<std::optional<Action>, kSyscallWidth> by_nr_{};
};

Result<Imported> import(const nlohmann::json& doc, const ImportOptions& options) {
  if (!doc.is_object()) return invalid("the profile is not a JSON object");
  const nlohmann::json* p = &doc;
  if (const auto linux = doc.find("linux"); linux != doc.end() && linux->is_object() && linux->contains("seccomp"))
    p = &(*linux)["seccomp"];  // a whole OCI config.json
  if (!p->is_object()) return invalid("linux.seccomp is not a JSON object");
  Imported out;

  BOOST_OUTCOME_TRY(fallback, detail::parse_action(p->value("defaultAction", nlohmann::json()),
                                                   p->value("defaultErrnoRet", nlohmann::json())));
  if (const auto s = detail::substitute(fallback); !s.empty())
    out.dropped.push_back(fmt::format("defaultAction {}: {}", fallback.name, s));
  BOOST_OUTCOME_TRY(foreign, foreign_arches(*p));
  if (!foreign.empty())
    out.dropped.push_back(fmt::format("architectures {}: syscg denies every call of an architecture but x86_64 (EPERM)",
                                      detail::name_list(foreign)));
  if (const auto flags = p->find("flags"); flags != p->end() && flags->is_array() && !flags->empty())
    out.dropped.push_back(fmt::format("flags {}: ignored (they configure the runtime's filter)", flags->dump()));

  Verdicts verdicts(fallback);
  std::vector<std::string> conditional;  // the rules refused, one line each
  const auto syscalls = p->value("syscalls", nlohmann::json::array());
  if (!syscalls.is_array()) return invalid("'syscalls' is not an array");
  for (std::size_t i = 0; i < syscalls.size(); ++i) {
    const auto& rule = syscalls[i];
    if (!rule.is_object()) return invalid(fmt::format("syscalls[{}] is not an object", i));
    BOOST_OUTCOME_TRY(names, rule_names(rule, i));
    BOOST_OUTCOME_TRY(
        action, detail::parse_action(rule.value("action", nlohmann::json()), rule.value("errnoRet", nlohmann::json())));
    BOOST_OUTCOME_TRY(kept, detail::applies(rule, options));
    if (!kept || names.empty()) continue;

    std::vector<unsigned> nrs;
    std::vector<std::string> unknown;
    for (const auto& n : names) {
      if (const auto nr = syscall_table::number(n))
        nrs.push_back(*nr);
      else
        unknown.push_back(n);
    }
    const std::string what = fmt::format("syscalls[{}] {}", i, detail::name_list(names));
    if (!unknown.empty())
      out.dropped.push_back(
          fmt::format("syscalls[{}]: names unknown on x86_64, ignored: {}", i, detail::name_list(unknown)));
    if (nrs.empty()) continue;
    if (const auto s = detail::substitute(action); !s.empty())
      out.dropped.push_back(fmt::format("{}: {}: {}", what, action.name, s));

    const auto args = rule.find("args");
    if (args != rule.end() && !args->is_null() && !args->empty()) {
      BOOST_OUTCOME_TRY(cond, detail::describe_args(*args));
      if (action.same_verdict(fallback)) continue;  // changes nothing, whatever the arguments
      const std::string line = fmt::format("{}: {} if {}", what, action.name, cond);
      if (options.conditional == Conditional::refuse) {
        conditional.push_back(line);
        continue;
      }
      const bool widen = options.conditional == Conditional::widen;
      if (widen != action.allows()) {  // widen a denial or narrow an allowance: the rule goes
        out.dropped.push_back(fmt::format("{}: ignored ({}), the calls are as the other rules and the default say",
                                          line, widen ? "widen" : "narrow"));
        continue;
      }
      out.dropped.push_back(fmt::format("{}: applied whatever the arguments ({})", line, widen ? "widen" : "narrow"));
    }
    for (unsigned nr : nrs) verdicts.add(nr, action);
  }
  if (!conditional.empty()) {
    std::string message = fmt::format(
        "{} rule(s) with argument conditions, which syscg cannot express (widen or narrow them):", conditional.size());
    for (const auto& line : conditional) message += "\n" + line;
    return invalid(std::move(message));
  }

  for (unsigned nr = 0; nr < kSyscallWidth; ++nr) {
    const Action& a = verdicts.of(nr);
    if (nr == kRestartSyscall || a.allows()) {
      (void)out.allowed.set(nr);
    } else {
      SyscallSet one;
      (void)one.set(nr);
      out.errnos.assign(one, a.err);
    }
  }
  if (out.allowed.test(kClone3))
    out.dropped.push_back("clone3: allowed by the profile, but syscg's filter answers ENOSYS for it always");
  return out;
}

}  // namespace

Result<Imported> from_oci(std::string_view json, const ImportOptions& options) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    return invalid(one_line(std::string("not JSON: ") + e.what()));
  }
  try {
    return import(doc, options);
  } catch (const nlohmann::json::exception& e) {  // a value of the wrong type somewhere
    return invalid(one_line(std::string("malformed profile: ") + e.what()));
  }
}

}  // namespace syscg::formats
