// The board: every task (the newest LIMIT) in a column per status, in lifecycle
// order. Cards move between columns as the global event stream reports status
// changes; a task the board has not seen yet (created elsewhere) reloads the list.
// Calls waiting for a person's approval are listed above the columns.

import { call, stream } from "./api.js";
import { approvalsPanel } from "./approvals.js";
import { TERMINAL, badge, coalesced, h, money, replace } from "./dom.js";

const LIMIT = 200;
const RELOAD_MS = 300; // an unknown task: reload soon (debounced)
const REFRESH_MS = 1000; // a finished task or test results: re-read costs and counts

const COLUMNS = [
  { key: "pending", title: "Pending", statuses: ["pending"] },
  { key: "running", title: "Running", statuses: ["running", "paused"] },
  { key: "testing", title: "Testing", statuses: ["testing"] },
  { key: "completed", title: "Completed", statuses: ["completed"] },
  { key: "failed", title: "Failed", statuses: ["failed"] },
  { key: "cancelled", title: "Cancelled", statuses: ["cancelled"] },
];
const COLUMN_OF = new Map(COLUMNS.flatMap((c) => c.statuses.map((s) => [s, c.key])));
const ACTIVE = new Set(["running", "paused", "testing"]);

// The server's naive UTC timestamps as milliseconds, comparable with each other.
function millis(iso) {
  if (!iso) return 0;
  return Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`) || 0;
}

function shortPath(path) {
  if (!path) return "";
  const trimmed = path.replace(/[\\/]+$/, "");
  return trimmed.split(/[\\/]/).pop() || path;
}

function testText(summary) {
  if (!summary || !summary.total) return "No tests";
  const parts = [`${summary.passed} passed`, `${summary.failed} failed`];
  if (summary.pending) parts.push(`${summary.pending} pending`);
  return `${summary.total} ${summary.total === 1 ? "test" : "tests"}: ${parts.join(", ")}`;
}

export function boardView({ main, notify, showError }) {
  const note = h("p", { id: "board-note", class: "muted", "aria-live": "polite" }, "Loading…");
  const approvals = approvalsPanel("/api/v1/approvals?status=pending",
    { notify, showError, withTask: true });
  const columns = new Map(); // column key -> {count, list}
  const sections = COLUMNS.map((column) => {
    const headingId = `board-${column.key}`;
    const count = h("span", { class: "count" }, "0");
    const list = h("ul", { class: "cards" });
    columns.set(column.key, { count, list });
    return h("section", { class: "column", "data-status": column.key,
      "aria-labelledby": headingId },
    h("h2", { id: headingId }, column.title, " ", count), list);
  });
  replace(main, h("h1", {}, "Board"), approvals.element, note,
    h("div", { class: "board" }, sections));

  const cards = new Map(); // task id -> {task, element, status, progress}
  const latest = new Map(); // task id -> the newest status event seen: {status, progress, at}
  const ignored = new Set(); // unknown tasks a reload did not bring: old or deleted ones
  const pending = new Set(); // unknown tasks waiting for a reload
  let newest = 0; // the snapshot's newest change: events up to it are in the list already
  let source = null;
  const reload = coalesced(() => load().catch(showError));
  let closed = false;

  function card(task, project) {
    const status = h("span", { class: "card-status" }, badge(task.status));
    const progress = h("p", { class: "progress clamp" });
    const entry = { task, status, progress, element: null };
    entry.element = h("li", { class: "card", "data-task-id": task.id },
      h("a", { class: "clamp card-title", href: `#/tasks/${encodeURIComponent(task.id)}` },
        task.description),
      h("div", { class: "card-meta" }, status,
        h("span", { class: "mono project", title: project || null }, shortPath(project))),
      progress,
      h("p", { class: "card-facts" },
        h("span", { class: "cost", title: "Cost" }, money(task.cost_usd)),
        h("span", { class: "tests" }, testText(task.test_summary))));
    return entry;
  }

  function show(entry, status, progress) {
    entry.task.status = status;
    if (progress !== undefined) entry.task.progress = progress;
    replace(entry.status, badge(status));
    const text = ACTIVE.has(status) ? entry.task.progress || "" : "";
    replace(entry.progress, text);
    entry.progress.hidden = !text;
    const target = columns.get(COLUMN_OF.get(status) || "pending").list;
    if (entry.element.parentElement !== target) {
      // Newest first, as the list came: insert before the first older card.
      const at = millis(entry.task.created_at);
      const before = [...target.children].find(
        (el) => millis(cards.get(el.dataset.taskId)?.task.created_at) < at);
      target.insertBefore(entry.element, before || null);
    }
  }

  function counts() {
    for (const { count, list } of columns.values()) {
      const n = list.children.length;
      replace(count, String(n), h("span", { class: "visually-hidden" }, n === 1 ? " task" : " tasks"));
    }
  }

  function render(page, sessions, asked) {
    const projects = new Map(sessions.map((s) => [s.id, s.project_path]));
    cards.clear();
    for (const { list } of columns.values()) list.replaceChildren();
    newest = 0;
    for (const task of page.items) {
      newest = Math.max(newest, millis(task.updated_at));
      const entry = card(task, projects.get(task.session_id));
      cards.set(task.id, entry);
      // An event newer than this snapshot may have come in while it loaded.
      const seen = latest.get(task.id);
      if (seen && seen.at >= millis(task.updated_at)) show(entry, seen.status, seen.progress);
      else show(entry, task.status, task.progress);
    }
    for (const id of asked) {
      pending.delete(id);
      if (!cards.has(id)) ignored.add(id);
    }
    counts();
    const total = page.items.length;
    replace(note, page.next_cursor
      ? `Showing the newest ${LIMIT} tasks; older ones are not on the board.`
      : `${total} ${total === 1 ? "task" : "tasks"}.`);
  }

  function load() {
    const asked = new Set(pending); // unknown tasks this load is meant to bring
    return Promise.all([
      call("GET", `/api/v1/tasks?limit=${LIMIT}`),
      call("GET", "/api/v1/sessions"),
    ]).then(([page, sessions]) => {
      if (!closed) render(page, sessions, asked);
      return page;
    });
  }

  // The stream starts at the list's snapshot, but a reload's list is newer than the
  // stream: only events newer than the list's copy of a task change its card.
  function onStatus(event) {
    const id = event.task_id;
    const at = millis(event.created_at);
    const entry = cards.get(id);
    if (!entry) {
      // Older than the snapshot means an old (beyond the newest LIMIT) or deleted task.
      if (ignored.has(id) || at <= newest) return;
      pending.add(id);
      reload.schedule(RELOAD_MS);
      return;
    }
    if (at < millis(entry.task.updated_at)) return;
    if (event.kind === "status") {
      const progress = event.data && event.data.progress ? event.data.progress : undefined;
      latest.set(id, { status: event.content, progress, at });
      const changed = entry.task.status !== event.content;
      show(entry, event.content, progress);
      counts();
      // Its final cost and test counts come with the list.
      if (changed && TERMINAL.has(event.content)) reload.schedule(REFRESH_MS);
    } else {
      latest.set(id, { status: entry.task.status, progress: event.content, at });
      show(entry, entry.task.status, event.content);
    }
  }

  function onTestResult(event) {
    const entry = cards.get(event.task_id);
    if (entry && millis(event.created_at) >= millis(entry.task.updated_at)) {
      reload.schedule(REFRESH_MS);
    }
  }

  approvals.refresh();
  load()
    .then((page) => {
      if (closed) return;
      // From the list's snapshot on: no replay of every task's history.
      source = stream("/api/v1/events", { after: page.last_event_id },
        { status: onStatus, test_result: onTestResult, approval: () => approvals.refresh() });
    })
    .catch((error) => {
      replace(note, "Could not load the tasks.");
      showError(error);
    });

  return () => {
    closed = true;
    reload.cancel();
    if (source) source.close();
  };
}
