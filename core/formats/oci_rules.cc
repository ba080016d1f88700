#include "core/formats/oci_rules.h"

#include "core/deny_errnos.h"
#include "core/errno_names.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

namespace syscg::formats::detail {

namespace {

Error invalid(std::string message) { return make_error(Errc::invalid, std::move(message)); }

struct KnownAction {
  std::string_view name;
  Kind kind;
};
constexpr std::array kActions{
    KnownAction{"SCMP_ACT_ALLOW", Kind::allow},       KnownAction{"SCMP_ACT_LOG", Kind::log},
    KnownAction{"SCMP_ACT_NOTIFY", Kind::notify},     KnownAction{"SCMP_ACT_TRACE", Kind::trace},
    KnownAction{"SCMP_ACT_ERRNO", Kind::errno_ret},   KnownAction{"SCMP_ACT_TRAP", Kind::trap},
    KnownAction{"SCMP_ACT_KILL", Kind::kill},         KnownAction{"SCMP_ACT_KILL_THREAD", Kind::kill},
    KnownAction{"SCMP_ACT_KILL_PROCESS", Kind::kill},
};

// "5.15", "6.1.0-18-amd64" -> {5, 15}, {6, 1}: Docker compares major.minor.
std::optional<std::pair<int, int>> kernel_version(std::string_view text) {
  auto number = [&](int& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{} || out < 0) return false;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return true;
  };
  std::pair<int, int> v{0, 0};
  if (!number(v.first)) return std::nullopt;
  if (text.starts_with('.')) {
    text.remove_prefix(1);
    if (!number(v.second)) return std::nullopt;
  }
  return v;
}

std::string normalized_cap(std::string cap) {
  for (char& c : cap) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return cap.starts_with("CAP_") ? cap : "CAP_" + cap;
}

Result<std::vector<std::string>> strings(const nlohmann::json& v, std::string_view what) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (!v.is_array()) return invalid(fmt::format("{} is not an array of strings", what));
  for (const auto& s : v) {
    if (!s.is_string()) return invalid(fmt::format("{} is not an array of strings", what));
    out.push_back(s.get<std::string>());
  }
  return out;
}

struct Condition {
  std::vector<std::string> arches, caps;
  std::optional<std::pair<int, int>> min_kernel;
};

Result<Condition> condition(const nlohmann::json& rule, const char* key) {
  Condition c;
  const auto it = rule.find(key);
  if (it == rule.end() || it->is_null()) return c;
  if (!it->is_object()) return invalid(fmt::format("'{}' is not an object", key));
  BOOST_OUTCOME_TRY(arches, strings(it->value("arches", nlohmann::json()), fmt::format("{}.arches", key)));
  c.arches = std::move(arches);
  BOOST_OUTCOME_TRY(caps, strings(it->value("caps", nlohmann::json()), fmt::format("{}.caps", key)));
  for (auto& cap : caps) c.caps.push_back(normalized_cap(std::move(cap)));
  if (const auto k = it->find("minKernel"); k != it->end() && !k->is_null()) {
    if (!k->is_string() || !(c.min_kernel = kernel_version(k->get<std::string>())))
      return invalid(fmt::format("{}.minKernel {} is not a kernel version such as \"5.15\"", key, k->dump()));
  }
  return c;
}

bool native_arch(const std::string& arch) { return arch == "amd64" || arch == "x86_64"; }

}  // namespace

Result<Action> parse_action(const nlohmann::json& name, const nlohmann::json& errno_ret) {
  if (!name.is_string()) return invalid("an action is missing or not a string");
  Action a;
  a.name = name.get<std::string>();
  const auto known = std::find_if(kActions.begin(), kActions.end(), [&](const auto& k) { return k.name == a.name; });
  if (known == kActions.end()) return invalid(fmt::format("unknown action '{}'", a.name));
  a.kind = known->kind;
  int ret = EPERM;  // the spec's default errnoRet
  if (!errno_ret.is_null()) {
    if (!errno_ret.is_number_integer() || errno_ret.get<long long>() < 1 || errno_ret.get<long long>() > kMaxErrno ||
        !errno_names::allowed(static_cast<int>(errno_ret.get<long long>())))
      return invalid(
          fmt::format("errno {} is not 1..{} (nor a kernel-internal 512..529)", errno_ret.dump(), kMaxErrno));
    ret = static_cast<int>(errno_ret.get<long long>());
  }
  switch (a.kind) {
    case Kind::allow:
    case Kind::log: a.err = 0; break;
    case Kind::errno_ret: a.err = ret; break;
    case Kind::trace: a.err = ENOSYS; break;  // the kernel's answer when no tracer is attached
    case Kind::notify:
    case Kind::trap:
    case Kind::kill: a.err = EPERM; break;
  }
  return a;
}

std::string substitute(const Action& a) {
  switch (a.kind) {
    case Kind::allow:
    case Kind::errno_ret: return "";
    case Kind::log: return "allowed without logging (syscg does not log calls)";
    case Kind::notify: return "denied with EPERM (syscg asks no supervisor of the profile's)";
    case Kind::trace: return "denied with ENOSYS (what the kernel answers with no tracer attached)";
    case Kind::trap: return "denied with EPERM (syscg sends no SIGSYS)";
    case Kind::kill: return "denied with EPERM (syscg does not kill)";
  }
  return "";
}

Result<std::string> describe_args(const nlohmann::json& args) {
  if (!args.is_array()) return invalid("'args' is not an array");
  std::string out;
  for (const auto& arg : args) {
    if (!arg.is_object()) return invalid("an entry of 'args' is not an object");
    const auto num = [&](const char* key) {
      const auto it = arg.find(key);
      if (it == arg.end() || !it->is_number_unsigned()) return std::string(it == arg.end() ? "0" : it->dump());
      const auto v = it->get<unsigned long long>();
      return v < 4096 ? std::to_string(v) : fmt::format("{:#x}", v);
    };
    const std::string op = arg.value("op", std::string("?"));
    const std::string lhs = "arg" + num("index");
    std::string text;
    if (op == "SCMP_CMP_MASKED_EQ") {
      text = fmt::format("{} & {} == {}", lhs, num("value"), num("valueTwo"));
    } else {
      static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kOps{{{"SCMP_CMP_NE", "!="},
                                                                                          {"SCMP_CMP_LT", "<"},
                                                                                          {"SCMP_CMP_LE", "<="},
                                                                                          {"SCMP_CMP_EQ", "=="},
                                                                                          {"SCMP_CMP_GE", ">="},
                                                                                          {"SCMP_CMP_GT", ">"}}};
      const auto k = std::find_if(kOps.begin(), kOps.end(), [&](const auto& p) { return p.first == op; });
      text = fmt::format("{} {} {}", lhs, k == kOps.end() ? op : std::string(k->second), num("value"));
    }
    out += (out.empty() ? "" : " and ") + text;
  }
  return out;
}

Result<bool> applies(const nlohmann::json& rule, const ImportOptions& options) {
  BOOST_OUTCOME_TRY(inc, condition(rule, "includes"));
  BOOST_OUTCOME_TRY(exc, condition(rule, "excludes"));
  std::optional<std::pair<int, int>> kernel;
  if (options.kernel && !(kernel = kernel_version(*options.kernel)))
    return invalid(fmt::format("kernel '{}' is not a version such as 5.15", *options.kernel));
  std::vector<std::string> caps;
  for (const auto& c : options.caps) caps.push_back(normalized_cap(c));
  const auto has_cap = [&](const std::string& c) { return std::find(caps.begin(), caps.end(), c) != caps.end(); };
  // Without a kernel every minKernel counts as met.
  const auto kernel_at_least = [&](std::pair<int, int> v) { return !kernel || *kernel >= v; };

  if (std::any_of(exc.arches.begin(), exc.arches.end(), native_arch)) return false;
  if (std::any_of(exc.caps.begin(), exc.caps.end(), has_cap)) return false;
  if (exc.min_kernel && kernel_at_least(*exc.min_kernel)) return false;
  if (!inc.arches.empty() && std::none_of(inc.arches.begin(), inc.arches.end(), native_arch)) return false;
  if (!std::all_of(inc.caps.begin(), inc.caps.end(), has_cap)) return false;
  if (inc.min_kernel && !kernel_at_least(*inc.min_kernel)) return false;
  return true;
}

std::string name_list(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 8;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kShown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kShown) out += fmt::format(" and {} more", names.size() - kShown);
  return out;
}

}  // namespace syscg::formats::detail
