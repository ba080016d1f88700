#include "fs/handover.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace syscg::fs {
namespace {

using nlohmann::json;

json numbers(const SyscallSet& set) {
  json out = json::array();
  for (unsigned nr = 0; nr < kSyscallWidth; ++nr)
    if (set.test(nr)) out.push_back(nr);
  return out;
}

Error bad(std::string_view what) { return make_error(Errc::invalid, fmt::format("hand-over bundle: {}", what)); }

}  // namespace

std::string encode_bundle(const Bundle& bundle) {
  json members = json::array();
  for (const auto& m : bundle.members)
    members.push_back({{"pid", m.pid}, {"start_time", m.start_time}, {"group", m.group}});
  json routed = json::array();
  for (const auto& [pid, set] : bundle.routed) routed.push_back({{"pid", pid}, {"numbers", numbers(set)}});
  return json{{"version", kHandoverVersion},
              {"members", members},
              {"routed", routed},
              {"listeners", bundle.listeners},
              {"argv", bundle.argv}}
      .dump();
}

Result<Bundle> decode_bundle(std::string_view text) {
  // Parsed without exceptions; every field is checked for its type.
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (!j.contains("version") || j["version"] != kHandoverVersion)
    return bad(fmt::format("not version {}", kHandoverVersion));
  for (const char* key : {"members", "routed", "listeners", "argv"})
    if (!j.contains(key) || !j[key].is_array()) return bad(fmt::format("'{}' is not a list", key));
  auto pid_of = [](const json& v) -> std::optional<Pid> {
    if (!v.is_number_integer() || v.get<std::int64_t>() <= 0 || v.get<std::int64_t>() > 0x3fffffff) return std::nullopt;
    return static_cast<Pid>(v.get<std::int64_t>());
  };
  Bundle b;
  for (const auto& m : j["members"]) {
    if (!m.is_object() || !m.contains("pid") || !m.contains("start_time") || !m.contains("group"))
      return bad("a member");
    auto pid = pid_of(m["pid"]);
    if (!pid || !m["start_time"].is_number_unsigned() || !m["group"].is_string()) return bad("a member's fields");
    b.members.push_back({*pid, m["start_time"].get<std::uint64_t>(), m["group"].get<std::string>()});
  }
  for (const auto& r : j["routed"]) {
    if (!r.is_object() || !r.contains("pid") || !r.contains("numbers") || !r["numbers"].is_array())
      return bad("a routed entry");
    auto pid = pid_of(r["pid"]);
    if (!pid) return bad("a routed entry's pid");
    SyscallSet set;
    for (const auto& nr : r["numbers"])
      if (!nr.is_number_unsigned() || !set.set(nr.get<std::uint64_t>())) return bad("a routed number");
    b.routed[*pid] = set;
  }
  for (const auto& l : j["listeners"]) {
    auto pid = l.is_number_integer() && l.get<std::int64_t>() == 0 ? std::optional<Pid>(0) : pid_of(l);
    if (!pid) return bad("a listener's owner");
    b.listeners.push_back(*pid);
  }
  for (const auto& a : j["argv"]) {
    if (!a.is_string()) return bad("an argument");
    b.argv.push_back(a.get<std::string>());
  }
  return b;
}

}  // namespace syscg::fs
