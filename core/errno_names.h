// Errno names ("ENOSYS") and numbers, as glibc names them
// (strerrorname_np): the one errno naming of the project, for the control
// files, the exporters and the CLI.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace syscg::errno_names {

// "ENOSYS" -> 38; a number written in decimal ("38") is accepted too, when
// it is 1..kMaxErrno. nullopt for anything else.
std::optional<int> parse(std::string_view text);
// 38 -> "ENOSYS"; the decimal number when glibc has no name for it.
std::string name(int err);

}  // namespace syscg::errno_names
