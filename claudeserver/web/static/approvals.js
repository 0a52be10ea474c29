// Calls held for a person's approval (sessions with approvals "human"): a prominent panel
// of the pending ones, each with what the agent wants to do, why the policy asks, what
// happens when nobody answers, and Allow / Deny / Always allow. The task page shows its
// task's, the board everyone's; both re-read the list on `approval` events.

import { call } from "./api.js";
import { h, replace, when } from "./dom.js";

const CATEGORIES = {
  network: "network fetch outside the allowlist",
  push: "push of the task branch",
  install: "new package",
  mass_delete: "mass deletion",
  ask_rule: "ask rule",
};

// `source` is the API path listing the approvals; `withTask` links each to its task.
export function approvalsPanel(source, { notify, showError, withTask = false }) {
  const list = h("ul", { class: "approval-list" });
  const heading = h("h2", { id: "approvals-h" }, "Waiting for your approval");
  const element = h("section", { id: "approvals", class: "approvals", role: "region",
    "aria-labelledby": "approvals-h", hidden: true }, heading, list);
  let loads = 0;

  function refresh() {
    const load = ++loads;
    return call("GET", source).then((found) => {
      if (load !== loads) return; // a newer read is on its way
      const pending = found.filter((a) => a.status === "pending");
      element.hidden = pending.length === 0;
      replace(heading, `Waiting for your approval (${pending.length})`);
      replace(list, pending.map((a) => card(a)));
    }, showError);
  }

  function card(approval) {
    const reason = h("input", { type: "text", class: "approval-reason", autocomplete: "off",
      placeholder: "Reason (optional, told to the agent)",
      "aria-label": `Reason for the answer to ${approval.tool} ${approval.input_summary}` });
    const buttons = [
      h("button", { type: "button", onclick: () => answer("allow", false) }, "Allow"),
      h("button", { type: "button", class: "danger", onclick: () => answer("deny", false) },
        "Deny"),
      h("button", { type: "button", class: "secondary", onclick: () => answer("allow", true),
        title: `Adds ${approval.rules.join(", ") || "a rule"} to the session: not asked again`,
        disabled: approval.rules.length === 0 }, "Always allow"),
    ];
    const unattended = approval.unattended === "allow" ? "allows" : "denies";
    const element = h("li", { class: "approval", "data-approval-id": approval.id },
      h("p", { class: "approval-what" },
        h("span", { class: "approval-category" }, CATEGORIES[approval.category]
          || approval.category), " ", h("strong", {}, approval.tool)),
      h("pre", { class: "command" }, approval.input_summary),
      h("p", { class: "approval-question" }, approval.question),
      withTask ? h("p", {}, h("a", { href: `#/tasks/${encodeURIComponent(approval.task_id)}` },
        "Open the task")) : null,
      h("p", { class: "muted hint" }, `Unanswered, the simulated human ${unattended} it at `,
        when(approval.expires_at), "."),
      h("div", { class: "row" }, reason, buttons));

    async function answer(decision, remember) {
      buttons.forEach((b) => { b.disabled = true; });
      const body = { decision, remember };
      if (reason.value.trim()) body.reason = reason.value.trim();
      try {
        const done = await call("POST", `/api/v1/approvals/${encodeURIComponent(approval.id)}`,
          body);
        notify(`${done.status === "allowed" ? "Allowed" : "Denied"}: ${approval.input_summary}`
          + (remember ? " (remembered for this session)." : "."));
      } catch (error) {
        showError(error); // 409: answered meanwhile (elsewhere, or by the simulated human)
      }
      refresh();
    }
    return element;
  }

  return { element, refresh };
}
