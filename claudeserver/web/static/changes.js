// The task's "Changes" section: files changed with their counts, the unified
// diff with its review comments, and the workspace actions (merge a finished
// worktree, remove it). It is re-read when the task page asks, never polled.

import { ApiError, call, text } from "./api.js";
import { commentsLayer } from "./comments.js";
import { diffText, fileTable } from "./diff.js";
import { TERMINAL, h, replace } from "./dom.js";

// Why there is nothing to show, by the status the diff endpoint answers with.
const NO_DIFF = {
  409: "No changes to show yet: the task has no workspace.",
  410: "The workspace was removed, so its changes can no longer be shown.",
};

export function changesSection(taskPath, options) {
  const { notify, showError, onWorkspaceRemoved, onQueued } = options;
  const note = h("p", { id: "changes-note", class: "muted" }, "Loading…");
  const files = h("div", { id: "changes-files", class: "table-wrap" });
  const patch = h("div", { id: "changes-diff" });
  const outcome = h("div", { id: "merge-outcome", role: "status", "aria-live": "polite" });
  const merge = h("button", { type: "button", onclick: doMerge, hidden: true }, "Merge");
  const remove = h("button", { type: "button", class: "secondary", onclick: doRemove,
    hidden: true }, "Remove workspace");
  const comments = commentsLayer(taskPath, { notify, showError, onQueued });
  const clickHint = h("p", { class: "muted hint", hidden: true },
    "Click a line of the diff to comment on it (or tab to the diff, move with the arrow " +
    "keys and press Enter).");
  const element = h("section", { "aria-labelledby": "changes-h", id: "changes" },
    h("h2", { id: "changes-h" }, "Changes"),
    h("div", { class: "row actions" }, merge, remove), outcome,
    note, files, comments.element,
    clickHint, patch);
  let pending = null;
  let generation = 0; // only the newest load may render

  // The buttons follow the task: merging needs a completed worktree task, removal
  // any finished task, and both a workspace that still exists.
  function update(task) {
    const ws = task.workspace;
    const present = Boolean(ws) && !task.workspace_removed_at;
    merge.hidden = !(present && task.status === "completed" && ws.kind === "worktree");
    remove.hidden = !(present && TERMINAL.has(task.status));
    if (ws && ws.base_branch) replace(merge, `Merge into ${ws.base_branch}`);
    comments.update(task);
  }

  // Several events can ask at once (a replayed history has many): one load serves them.
  function refresh() {
    clearTimeout(pending);
    pending = setTimeout(load, 200);
  }

  async function load() {
    const mine = ++generation;
    try {
      const [stat, diff] = await Promise.all([
        call("GET", `${taskPath}/diff?format=stat`), text(`${taskPath}/diff`), comments.load()]);
      if (mine !== generation) return;
      if (!stat.files.length) return show("No files changed yet.");
      show(null);
      replace(files, fileTable(stat.files));
      replace(patch, diffText(diff));
      comments.decorate(patch.firstChild);
    } catch (error) {
      if (mine !== generation) return;
      if (error instanceof ApiError && NO_DIFF[error.status]) return show(NO_DIFF[error.status]);
      show("Could not load the changes.");
      showError(error);
    }
  }

  function show(message) {
    note.hidden = !message;
    clickHint.hidden = Boolean(message);
    replace(note, message || "");
    if (message) {
      replace(files);
      replace(patch);
      comments.decorate(null);
    }
  }

  async function doMerge() {
    merge.disabled = true;
    replace(outcome);
    try {
      const result = await call("POST", `${taskPath}/merge`);
      const how = result.up_to_date ? `${result.base_branch} already had these changes`
        : `Merged into ${result.base_branch} (${result.fast_forward ? "fast-forward"
          : "merge commit"} ${result.commit.slice(0, 10)})`;
      replace(outcome, h("p", { class: "ok" }, `${how}.`));
    } catch (error) {
      const conflicted = (error.data && error.data.files) || [];
      replace(outcome, h("div", { class: "conflict", role: "alert" },
        h("p", {}, error.message),
        conflicted.length ? [h("p", {}, "Files in conflict:"),
          h("ul", {}, conflicted.map((f) => h("li", { class: "mono" }, f)))] : null));
      if (error.status !== 409) showError(error);
    }
    merge.disabled = false;
  }

  async function doRemove() {
    remove.disabled = true;
    try {
      await call("DELETE", `${taskPath}/workspace`);
      merge.hidden = remove.hidden = true;
      notify("Workspace removed.");
      onWorkspaceRemoved();
      refresh();
    } catch (error) {
      showError(error);
    }
    remove.disabled = false;
  }

  // Also drops a load still in flight: its task may be gone by the time it answers.
  function dispose() {
    clearTimeout(pending);
    generation++;
  }

  // A comment changed (here or elsewhere): its list is re-read, the diff stays.
  function refreshComments() {
    comments.reload().catch(showError);
  }

  return { element, update, refresh, refreshComments, dispose };
}
