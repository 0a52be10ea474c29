// The sessions list and the form that creates one for a project directory.

import { call } from "./api.js";
import { h, replace, when } from "./dom.js";

export function sessionsView({ main, showError }) {
  const list = h("div", { class: "table-wrap" }, h("p", {}, "Loading…"));
  const path = h("input", {
    id: "project-path", name: "project_path", required: true, autocomplete: "off",
    placeholder: "/abs/path/to/project", spellcheck: "false",
  });
  const field = (id, label, input) =>
    h("div", { class: "field" }, h("label", { for: id }, label), input);
  const option = (value, label) => h("option", { value }, label);
  const isolation = h("select", { id: "session-isolation" },
    option("", "default"),
    option("worktree", "worktree (a branch per task)"),
    option("none", "none (in place)"));
  const baseBranch = h("input", { id: "session-base-branch", autocomplete: "off",
    spellcheck: "false", placeholder: "the current branch" });
  const runner = h("select", { id: "session-test-runner" },
    option("", "detect"),
    ["pytest", "node", "go", "cargo", "command"].map((name) => option(name, name)));
  const testCommand = h("input", { id: "session-test-command", autocomplete: "off",
    spellcheck: "false", placeholder: "the runner's" });
  const budget = h("input", { id: "session-budget", type: "number", min: 0.01, step: 0.01,
    placeholder: "MAX_BUDGET_USD" });
  const webhook = h("input", { id: "session-webhook", type: "url", autocomplete: "off",
    placeholder: "none" });
  const webhookFormat = h("select", { id: "session-webhook-format" },
    option("json", "JSON (signed)"), option("slack", "Slack message"));
  const review = h("input", { id: "session-review", type: "checkbox" });
  const strict = h("input", { id: "session-baseline-block", type: "checkbox" });
  const approvals = h("input", { id: "session-approvals", type: "checkbox" });
  const form = h("form", { class: "stack", onsubmit: create },
    h("label", { for: "project-path" }, "Project directory (absolute path on the server)"),
    h("div", { class: "row" }, path, h("button", { type: "submit" }, "Create session")),
    h("details", { class: "options" }, h("summary", {}, "Options"),
      h("div", { class: "grid" },
        field("session-isolation", "Isolation", isolation),
        field("session-base-branch", "Base branch", baseBranch),
        field("session-test-runner", "Test runner", runner),
        field("session-test-command", "Test command", testCommand),
        field("session-budget", "Budget per task (USD)", budget),
        field("session-webhook", "Webhook URL", webhook),
        field("session-webhook-format", "Webhook format", webhookFormat),
        h("div", { class: "check" }, review,
          h("label", { for: "session-review" }, "Review each change")),
        h("div", { class: "check" }, strict,
          h("label", { for: "session-baseline-block" },
            "Tests failing before a task must pass too")),
        h("div", { class: "check" }, approvals,
          h("label", { for: "session-approvals" },
            "Ask me before risky calls (approvals)")))),
  );
  replace(main,
    h("h1", {}, "Sessions"),
    h("section", { "aria-labelledby": "new-session" },
      h("h2", { id: "new-session" }, "New session"), form),
    h("section", { "aria-labelledby": "all-sessions" },
      h("h2", { id: "all-sessions" }, "All sessions"), list),
  );

  async function create(event) {
    event.preventDefault();
    // Only what the user set: the server's defaults depend on the project.
    const body = { project_path: path.value.trim() };
    if (isolation.value) body.isolation = isolation.value;
    if (baseBranch.value.trim()) body.base_branch = baseBranch.value.trim();
    if (runner.value) body.test_runner = runner.value;
    if (testCommand.value.trim()) body.test_command = testCommand.value.trim();
    if (budget.value) body.max_budget_usd = Number(budget.value);
    if (webhook.value.trim()) body.webhook_url = webhook.value.trim();
    if (webhookFormat.value !== "json") body.webhook_format = webhookFormat.value;
    if (review.checked) body.review = true;
    if (strict.checked) body.baseline_failures = "block";
    if (approvals.checked) body.approvals = "human";
    try {
      const session = await call("POST", "/api/v1/sessions", body);
      location.hash = `#/sessions/${encodeURIComponent(session.id)}`;
    } catch (error) {
      showError(error);
    }
  }

  call("GET", "/api/v1/sessions").then((sessions) => {
    if (!sessions.length) return replace(list, h("p", {}, "No sessions yet."));
    replace(list, h("table", {},
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Project"), h("th", { scope: "col" }, "Created"),
        h("th", { scope: "col" }, "Session id"))),
      h("tbody", {}, sessions.map((s) => h("tr", {},
        h("td", {}, h("a", { href: `#/sessions/${encodeURIComponent(s.id)}` }, s.project_path)),
        h("td", {}, when(s.created_at)),
        h("td", { class: "mono" }, s.id)))),
    ));
  }, (error) => {
    replace(list, h("p", {}, "Could not load the sessions."));
    showError(error);
  });
  return () => {};
}
