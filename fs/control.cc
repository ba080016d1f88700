// The facade's control-file writes: policy (allow, deny), limits and moves
// (cgroup.procs). Each is checked (access.h), committed under write_mu_ with
// its Enforcement calls and its rows queued (save()), then acknowledged once
// they are durable (durable(), after write_mu_ is released).
#include "fs/filesystem.h"

#include "core/grammar.h"

#include <fmt/format.h>

namespace syscg::fs {

Result<std::size_t> Filesystem::write(std::uint64_t id, std::string_view data, const Caller& writer) {
  auto h = handles_.find(id);
  if (!h) return make_error(Errc::invalid, "stale handle");
  if (data.size() > grammar::kMaxWrite)
    return make_error(Errc::too_big, fmt::format("write of {} bytes exceeds {}", data.size(), grammar::kMaxWrite));
  BOOST_OUTCOME_TRY(write_command(*h, data, writer));
  meta_.touch(h->group, h->kind);
  return data.size();
}

Status Filesystem::write_command(const Handle& h, std::string_view data, const Caller& writer) {
  if (h.kind == FileKind::syscalls_allow) {
    // No self-release: the writer's group, after every fork before the request.
    BOOST_OUTCOME_TRY(check_policy_write(tree_, membership_.group_of_writer(writer), h.group, h.kind));
  }
  switch (h.kind) {
    case FileKind::syscalls_allow:
    case FileKind::syscalls_deny: return write_policy(h, data, writer);
    case FileKind::mode: return write_mode(h, data, writer);
    case FileKind::max_depth:
    case FileKind::max_descendants: {
      BOOST_OUTCOME_TRY(limit, grammar::parse_limit(data));
      Journal::Ticket saved;
      {
        MutexLock wlock(write_mu_);
        BOOST_OUTCOME_TRY(writable());
        BOOST_OUTCOME_TRY(h.kind == FileKind::max_depth ? hierarchy_.set_max_depth(h.group, limit)
                                                        : hierarchy_.set_max_descendants(h.group, limit));
        BOOST_OUTCOME_TRY(t, save_group(h.group));
        saved = t;
      }
      return durable(saved);
    }
    case FileKind::procs: return move_process(h, data, writer);
    case FileKind::stat:
    case FileKind::events:
    case FileKind::stricter:
    case FileKind::denied:
    case FileKind::warnings:
    case FileKind::bpf:
    case FileKind::oci:
    case FileKind::systemd: return make_error(Errc::access, "a read-only control file");
    case FileKind::dir: break;
  }
  return make_error(Errc::is_dir, "a group directory");
}

Status Filesystem::write_policy(const Handle& h, std::string_view data, const Caller& writer) {
  if (h.group == kRootGroup) return make_error(Errc::permission, "the root group's policy cannot be changed");
  const bool deny = h.kind == FileKind::syscalls_deny;
  BOOST_OUTCOME_TRY(w, grammar::parse_list_write(data, deny ? grammar::ListFile::deny : grammar::ListFile::allow));
  Journal::Ticket saved;
  Status tightened = outcome::success();
  {
    MutexLock wlock(write_mu_);
    BOOST_OUTCOME_TRY(writable());
    // A deny saves the groups whose policy it changes: their policies before it.
    std::vector<SavedPolicy> before;
    if (deny && options_.journal) before = subtree_policies(hierarchy_, h.group);
    BOOST_OUTCOME_TRY(deny ? hierarchy_.deny(h.group, w.numbers, w.errnos) : hierarchy_.allow(h.group, w.numbers));
    // No supervisor answer from the old policy after this one returns.
    if (deny) enforcement_.barrier();
    // Queued first: the policy is the truth even if a member cannot be
    // reached. Its durability is waited for after the tightening, without
    // write_mu_, before the reply.
    if (deny) {
      saved = save(narrowed_rows(hierarchy_, meta_, keys_, before));
    } else {
      BOOST_OUTCOME_TRY(t, save_group(h.group));
      saved = t;
    }
    // An allow needs nothing more: what members' supervised filters route
    // follows the policy; what their other filters deny is lost (README).
    if (deny) tightened = membership_.tighten(h.group, writer.pid);
  }
  BOOST_OUTCOME_TRY(durable(saved));  // an unsaved policy is the error to report
  return tightened;
}

Status Filesystem::write_mode(const Handle& h, std::string_view data, const Caller& writer) {
  if (h.group == kRootGroup) return make_error(Errc::permission, "the root group's policy cannot be changed");
  BOOST_OUTCOME_TRY(complain, grammar::parse_mode(data));
  // No self-release (as an allow): complain loosens, enforce never does.
  if (complain) {
    BOOST_OUTCOME_TRY(check_policy_write(tree_, membership_.group_of_writer(writer), h.group, h.kind));
  }
  Journal::Ticket saved;
  Status tightened = outcome::success();
  {
    MutexLock wlock(write_mu_);
    BOOST_OUTCOME_TRY(writable());
    if (hierarchy_.complains(h.group) == complain) return outcome::success();  // no change
    // Enforce reaches the whole subtree: every group of it is saved.
    std::vector<SavedPolicy> subtree;
    if (!complain) subtree = subtree_policies(hierarchy_, h.group);
    BOOST_OUTCOME_TRY(hierarchy_.set_complain(h.group, complain));
    if (complain) {
      BOOST_OUTCOME_TRY(t, save_group(h.group));
      saved = t;
    } else {
      // No supervisor answer from complain mode after this one returns;
      // then what members' filters let run although the policy denies it
      // (denied while complaining) is tightened, as by a deny.
      enforcement_.barrier();
      std::vector<RowOp> rows;
      for (const auto& g : subtree)
        if (auto row = group_row(hierarchy_, meta_, keys_, g.group))
          rows.emplace_back(PutGroup{std::move(row).value()});
      saved = save(std::move(rows));
      tightened = membership_.tighten(h.group, writer.pid);
    }
  }
  BOOST_OUTCOME_TRY(durable(saved));
  return tightened;
}

Status Filesystem::move_process(const Handle& h, std::string_view data, const Caller& writer) {
  BOOST_OUTCOME_TRY(written, grammar::parse_pid(data));
  const auto home = membership_.group_of_writer(writer);  // after every fork before the request
  BOOST_OUTCOME_TRY(check_move(tree_, home, h.group, std::nullopt));
  BOOST_OUTCOME_TRY(target, enforcement_.identify(written, writer.pid));
  Journal::Ticket saved;
  {
    MutexLock wlock(write_mu_);
    BOOST_OUTCOME_TRY(writable());
    BOOST_OUTCOME_TRY(allowed, hierarchy_.allowed(h.group));
    // A stale entry under the target's number (its process gone) leaves first.
    membership_.drop_if_gone(target.tgid);
    const auto member_of = hierarchy_.group_of(target.tgid);
    const GroupId from = member_of.value_or(kRootGroup);
    BOOST_OUTCOME_TRY(check_move(tree_, home, h.group, member_of));
    BOOST_OUTCOME_TRY(may_move(h, target, from));
    // Read again: an exit delivered since makes the write a move, not a no-op.
    if (from == h.group && hierarchy_.group_of(target.tgid)) return outcome::success();
    BOOST_OUTCOME_TRY(membership_.move(target, from, h.group, allowed, writer.pid));
    if (const auto key = keys_.of.find(h.group); options_.journal && key != keys_.of.end())
      saved = save({PutMember{MemberRow{target.tgid, target.start_time, key->second}}});
  }
  return durable(saved);
}

Status Filesystem::may_move(const Handle& h, const Process& target, GroupId from) {
  const Caller& who = h.opener;  // cgroup.procs checks the opener, as the kernel's f_cred
  if (who.uid == 0) return outcome::success();
  BOOST_OUTCOME_TRY(check_owner(who, target));
  // cgroup v2 delegation: write access to cgroup.procs of the common ancestor.
  BOOST_OUTCOME_TRY(common, common_ancestor(tree_, from, h.group));
  const auto procs = meta_.owner_mode(common, FileKind::procs);
  if (!procs) return make_error(Errc::not_found, "the group was removed");
  if (!may_write(who, procs->mode, procs->uid, procs->gid))
    return make_error(Errc::access, "no write access to cgroup.procs of the common ancestor group");
  return outcome::success();
}

}  // namespace syscg::fs
