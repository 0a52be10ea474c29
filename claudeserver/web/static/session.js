// One session: the new-task form and its tasks, whose badges follow the
// session's event stream, and deleting the whole session.

import { call, stream } from "./api.js";
import { badge, coalesced, h, money, replace, when } from "./dom.js";
import { notifyOf } from "./notifications.js";

const PAGE = 500; // tasks per page of the list (the API's maximum)
const RELOAD_MS = 300; // an unknown task: reload soon (debounced)

export function sessionView(sessionId, { main, showError, go }) {
  const path = `/api/v1/sessions/${encodeURIComponent(sessionId)}`;
  const title = h("h1", {}, "Session");
  const info = h("p", { id: "session-info", class: "muted" });
  const tbody = h("tbody");
  const rows = new Map(); // task id -> {badge cell, progress cell, description}
  const remove = h("button", { type: "button", class: "danger", onclick: doDelete },
    "Delete session");
  let session = null;
  let source = null;
  const reload = coalesced(() => load().catch(showError));
  let loads = 0; // only the newest load renders
  let closed = false;

  const field = (id, label, input) =>
    h("div", { class: "field" }, h("label", { for: id }, label), input);
  const description = h("textarea", { id: "task-description", required: true, rows: 4 });
  const model = h("input", { id: "task-model", autocomplete: "off", placeholder: "server default" });
  const iterations = h("input", { id: "task-iterations", type: "number", min: 1, max: 10000 });
  const budget = h("input", { id: "task-budget", type: "number", min: 0.01, step: 0.01 });
  const testCommand = h("input", { id: "task-test-command", autocomplete: "off",
    placeholder: "discovered automatically" });
  const priority = h("input", { id: "task-priority", type: "number", min: -100, max: 100,
    value: 0 });
  const fallback = h("input", { id: "task-fallback-model", autocomplete: "off",
    placeholder: "the session's" });
  const webhook = h("input", { id: "task-webhook", type: "url", autocomplete: "off",
    placeholder: "the session's" });
  const webhookFormat = h("select", { id: "task-webhook-format" },
    h("option", { value: "" }, "the session's"),
    h("option", { value: "json" }, "JSON (signed)"),
    h("option", { value: "slack" }, "Slack message"));
  const review = h("select", { id: "task-review" },
    h("option", { value: "" }, "as the session says"),
    h("option", { value: "yes" }, "yes"),
    h("option", { value: "no" }, "no"));
  const form = h("form", { class: "stack", onsubmit: submit },
    field("task-description", "What should the agent do?", description),
    h("details", { class: "options" }, h("summary", {}, "Options"),
      h("div", { class: "grid" },
        field("task-model", "Model", model),
        field("task-iterations", "Max iterations", iterations),
        field("task-budget", "Max budget (USD)", budget),
        field("task-test-command", "Test command", testCommand),
        field("task-priority", "Priority (higher runs first)", priority),
        field("task-fallback-model", "Fallback model", fallback),
        field("task-webhook", "Webhook URL", webhook),
        field("task-webhook-format", "Webhook format", webhookFormat),
        field("task-review", "Review the change", review))),
    h("div", {}, h("button", { type: "submit" }, "Submit task")),
  );
  const table = h("table", {},
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Task"),
      h("th", { scope: "col" }, "Progress"), h("th", { scope: "col" }, "Cost"),
      h("th", { scope: "col" }, "Created"))),
    tbody);
  const empty = h("p", {}, "No tasks yet.");
  replace(main, title, info,
    h("div", { class: "row actions" }, remove),
    h("section", { "aria-labelledby": "new-task" }, h("h2", { id: "new-task" }, "New task"), form),
    h("section", { "aria-labelledby": "tasks" }, h("h2", { id: "tasks" }, "Tasks"),
      empty, h("div", { class: "table-wrap" }, table)));

  async function submit(event) {
    event.preventDefault();
    const body = { session_id: sessionId, description: description.value };
    if (model.value.trim()) body.model = model.value.trim();
    if (iterations.value) body.max_iterations = Number(iterations.value);
    if (budget.value) body.max_budget_usd = Number(budget.value);
    if (testCommand.value.trim()) body.test_command = testCommand.value.trim();
    if (priority.value && Number(priority.value) !== 0) body.priority = Number(priority.value);
    if (fallback.value.trim()) body.fallback_model = fallback.value.trim();
    if (webhook.value.trim()) body.webhook_url = webhook.value.trim();
    if (webhookFormat.value) body.webhook_format = webhookFormat.value;
    if (review.value) body.review = review.value === "yes";
    try {
      const task = await call("POST", "/api/v1/tasks", body);
      location.hash = `#/tasks/${encodeURIComponent(task.id)}`;
    } catch (error) {
      showError(error);
    }
  }

  async function doDelete() {
    const tasks = rows.size === 1 ? "its task" : `its ${rows.size} tasks`;
    const kept = session && session.isolation !== "worktree"
      ? "The changes they made in the project stay." : "Their branches stay.";
    const question = rows.size ? `Delete this session and ${tasks}?\n\nThis removes their `
      + `records, timelines, tests and workspaces for good. ${kept}` : "Delete this session?";
    if (!window.confirm(question)) return;
    remove.disabled = true;
    try {
      await call("DELETE", path);
    } catch (error) {
      showError(error); // 409 names the tasks still pending or running
      remove.disabled = false;
      return;
    }
    go("#/", "Session deleted.");
  }

  function render(tasks) {
    rows.clear();
    empty.hidden = tasks.length > 0;
    table.hidden = tasks.length === 0;
    replace(tbody, tasks.map((task) => {
      const status = h("td", { "aria-live": "polite" }, badge(task.status));
      const progress = h("td", { class: "progress" }, task.progress || "");
      rows.set(task.id, { status, progress, description: task.description });
      return h("tr", {}, status,
        h("td", {}, h("a", { href: `#/tasks/${encodeURIComponent(task.id)}`, class: "clamp" },
          task.description)),
        progress, h("td", {}, money(task.cost_usd)), h("td", {}, when(task.created_at)));
    }));
  }

  // Every task of the session, page by page. The first page's last_event_id was read
  // before any task: the stream starts there and brings exactly the changes since.
  async function load() {
    const mine = ++loads;
    const base = `/api/v1/tasks?session_id=${encodeURIComponent(sessionId)}&limit=${PAGE}`;
    const first = await call("GET", base);
    const tasks = [...first.items];
    for (let page = first; page.next_cursor;) {
      page = await call("GET", `${base}&cursor=${encodeURIComponent(page.next_cursor)}`);
      tasks.push(...page.items);
    }
    if (!closed && mine === loads) render(tasks);
    return first.last_event_id;
  }

  // Changes since the list was read, in order: the last status seen for a task is its
  // current one. A task not in the table yet (created elsewhere) means a reload.
  function onStatus(data) {
    const row = rows.get(data.task_id);
    notifyOf(data, row && row.description);
    if (!row) {
      reload.schedule(RELOAD_MS);
    } else if (data.kind === "status") {
      replace(row.status, badge(data.content));
      if (data.data && data.data.progress) replace(row.progress, data.data.progress);
    } else {
      replace(row.progress, data.content);
    }
  }

  call("GET", path)
    .then((found) => {
      session = found;
      replace(title, "Session: ", h("span", { class: "mono" }, session.project_path));
      replace(info, sessionInfo(session));
      return load();
    })
    .then((after) => {
      if (closed) return;
      // From the list's snapshot on: no replay of every task's history.
      source = stream("/api/v1/events", { session_id: sessionId, after }, { status: onStatus });
    })
    .catch(showError);

  return () => {
    closed = true;
    reload.cancel();
    if (source) source.close();
  };
}

// What decides how this session's tasks run, in one line under the title.
function sessionInfo(session) {
  const parts = [session.isolation === "worktree"
    ? `Each task on its own branch from ${session.base_branch}`
    : "Tasks change the project in place"];
  if (session.test_runner) parts.push(`tests: ${session.test_runner}`);
  if (session.test_command) parts.push(`test command: ${session.test_command}`);
  if (session.max_budget_usd) parts.push(`budget $${session.max_budget_usd} per task`);
  if (session.review) parts.push("changes are reviewed");
  if (session.baseline_failures === "block") parts.push("tests failing before a task must pass");
  return parts.join(" · ");
}
