// Trajectory viewer of a bao report: pick an evaluation (env, method, w, run), then an episode (task, seed),
// and read it turn by turn. data/index.js lists the evaluations; each evaluation's episodes are in their own
// data/eval-N.js, loaded by a <script> tag when first shown (fetch() is refused on file:// pages).
// Every text from the data goes through textContent, never innerHTML: trajectories hold model output.
"use strict";

(function () {
  const report = window.BAO_REPORT;
  const loaded = (window.BAO_EPISODES = window.BAO_EPISODES || {});
  const byId = (id) => document.getElementById(id);
  const select = {
    env: byId("sel-env"), method: byId("sel-method"), w: byId("sel-w"),
    run: byId("sel-run"), task: byId("sel-task"), seed: byId("sel-seed"),
  };
  const failuresOnly = byId("failures-only");
  const list = byId("episode-list");
  const pane = byId("episode");
  const status = byId("viewer-status");
  const state = { evaluation: null, visible: [] };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const unique = (values) => [...new Set(values)];
  const wKey = (w) => (w === null || w === undefined ? "n/a" : String(w));
  const fmt = (x) => (x === null || x === undefined ? "n/a" : Number(x).toFixed(3));
  const signed = (x) => (x === null || x === undefined ? "n/a" : (x > 0 ? "+" : "") + Number(x).toFixed(3));

  function setOptions(node, values, label) {
    const previous = node.value;
    node.replaceChildren(...values.map((value) => {
      const option = el("option", null, label ? label(value) : value);
      option.value = value;
      return option;
    }));
    if (values.includes(previous)) node.value = previous;
    node.disabled = values.length < 2;
  }

  function evaluations() {
    return report.evaluations.filter((e) => e.env === select.env.value
      && e.method === select.method.value && wKey(e.w) === select.w.value);
  }

  function refreshEnv() {
    setOptions(select.env, unique(report.evaluations.map((e) => e.env)));
    refreshMethod();
  }

  function refreshMethod() {
    const here = report.evaluations.filter((e) => e.env === select.env.value);
    setOptions(select.method, unique(here.map((e) => e.method)));
    refreshW();
  }

  function refreshW() {
    const here = report.evaluations.filter((e) => e.env === select.env.value && e.method === select.method.value);
    setOptions(select.w, unique(here.map((e) => wKey(e.w))));
    refreshRun();
  }

  function refreshRun() {
    const runs = evaluations();
    const label = (id) => {
      const e = report.evaluations[Number(id)];
      return (e.step === null ? "" : "step " + e.step + " · ") + e.source;
    };
    setOptions(select.run, runs.map((e) => String(e.id)), label);
    load(Number(select.run.value));
  }

  function load(id) {
    const evaluation = report.evaluations[id];
    if (!evaluation) return;
    if (loaded[id]) {
      show(evaluation);
      return;
    }
    status.textContent = "loading " + evaluation.source + " …";
    const script = document.createElement("script");
    script.src = evaluation.file;
    script.onload = () => show(evaluation);
    script.onerror = () => { status.textContent = "could not load " + evaluation.file; };
    document.body.appendChild(script);
  }

  function show(evaluation) {
    if (Number(select.run.value) !== evaluation.id) return; // another run was picked while this one loaded
    state.evaluation = evaluation;
    const data = loaded[evaluation.id];
    const parts = [evaluation.policy + " on " + evaluation.env + " (" + evaluation.split + ")",
      data.total + " episodes"];
    if (data.episodes.length < data.total) {
      parts.push("showing the first " + data.episodes.length + " (the viewer is capped at " + report.cap + ")");
    }
    if (evaluation.reward) parts.push("reward settings: " + evaluation.reward);
    status.textContent = parts.join(" · ");
    refreshTasks();
  }

  function refreshTasks() {
    if (!state.evaluation) return;
    const episodes = loaded[state.evaluation.id].episodes;
    state.visible = failuresOnly.checked ? episodes.filter((ep) => !ep.success) : episodes;
    renderList();
    setOptions(select.task, unique(state.visible.map((ep) => ep.task)));
    refreshSeed();
  }

  function refreshSeed() {
    const seeds = state.visible.filter((ep) => ep.task === select.task.value).map((ep) => String(ep.seed));
    setOptions(select.seed, unique(seeds));
    render();
  }

  function current() {
    return state.visible.find((ep) => ep.task === select.task.value && String(ep.seed) === select.seed.value);
  }

  function renderList() {
    const items = state.visible.map((ep) => {
      const item = el("li", ep.success ? "ok" : "fail");
      const button = el("button", null, (ep.success ? "✓ " : "✗ ") + ep.task + " · seed " + ep.seed);
      button.type = "button";
      button.title = "score " + fmt(ep.score) + ", U " + ep.U + ", " + ep.turns.length + " turns";
      button.addEventListener("click", () => {
        select.task.value = ep.task;
        refreshSeed();
        select.seed.value = String(ep.seed);
        render();
      });
      item.appendChild(button);
      return item;
    });
    if (!items.length) items.push(el("li", "empty", failuresOnly.checked ? "no failures here" : "no episodes"));
    list.replaceChildren(...items);
  }

  function render() {
    const ep = current();
    for (const item of list.children) item.classList.remove("active");
    if (!ep) {
      pane.replaceChildren(el("p", "note", "No episode to show."));
      return;
    }
    const index = state.visible.indexOf(ep);
    if (list.children[index]) list.children[index].classList.add("active");
    const head = el("div", "episode-head");
    head.appendChild(el("h3", null, ep.task + " · seed " + ep.seed));
    const facts = el("div", "facts");
    facts.appendChild(el("span", "badge " + (ep.success ? "ok" : "fail"), ep.success ? "success" : "failure"));
    for (const [name, value] of [["score", fmt(ep.score)], ["R", fmt(ep.R)], ["U", ep.U],
      ["turns", ep.turns.length], ["stop", ep.stop], ["shaped return", signed(ep.shaped)]]) {
      facts.appendChild(el("span", "badge", name + " " + value));
    }
    head.appendChild(facts);
    const parts = [head];
    if (ep.prompt) {
      const task = el("details", "prompt");
      task.appendChild(el("summary", null, "task statement (first user message)"));
      task.appendChild(el("pre", null, ep.prompt));
      parts.push(task);
    }
    const turns = el("ol", "turns");
    turns.id = "turns";
    ep.turns.forEach((turn) => turns.appendChild(renderTurn(turn)));
    parts.push(turns);
    pane.replaceChildren(...parts);
  }

  function renderTurn(turn) {
    const flagged = turn.flags.redundant || turn.flags.invalid || turn.flags.overthink.length;
    const node = el("li", "turn" + (flagged ? " flagged" : ""));
    const head = el("div", "turn-head");
    head.appendChild(el("span", "turn-index", "turn " + (turn.index + 1)));
    head.appendChild(el("span", "kind kind-" + turn.kind, turn.kind));
    if (turn.user) head.appendChild(el("span", "flag user", "user turn"));
    if (turn.flags.redundant) head.appendChild(el("span", "flag warn", "redundant query"));
    if (turn.flags.overthink.length) {
      head.appendChild(el("span", "flag warn", "over-thinking (" + turn.flags.overthink.join(", ") + ")"));
    }
    if (turn.flags.invalid) head.appendChild(el("span", "flag bad", "invalid"));
    head.appendChild(el("span", "turn-reward", "reward " + signed(turn.shaped)));
    node.appendChild(head);
    if (turn.reasoning) node.appendChild(block("think", "<think>", turn.reasoning));
    node.appendChild(block("action", "action: " + turn.kind, turn.content || "(empty)"));
    if (turn.error) node.appendChild(block("error", "error", turn.error));
    node.appendChild(block("reply", turn.user ? "user" : "environment", turn.reply));
    node.appendChild(components(turn.components));
    return node;
  }

  function block(className, label, text) {
    const node = el("div", "block " + className);
    node.appendChild(el("div", "label", label));
    node.appendChild(el("pre", null, text));
    return node;
  }

  function components(values) {
    const table = el("table", "components");
    const names = el("tr");
    const row = el("tr");
    for (const [name, value] of Object.entries(values)) {
      names.appendChild(el("th", null, name));
      row.appendChild(el("td", value ? (value > 0 ? "pos" : "neg") : "zero", signed(value)));
    }
    table.append(names, row);
    return table;
  }

  function open(id) {
    const evaluation = report.evaluations[id];
    select.env.value = evaluation.env;
    refreshMethod();
    select.method.value = evaluation.method;
    refreshW();
    select.w.value = wKey(evaluation.w);
    refreshRun();
    select.run.value = String(id);
    load(id);
    byId("viewer").scrollIntoView();
  }

  if (!report || !report.evaluations.length) {
    status.textContent = "No evaluation with trajectories was found.";
    return;
  }
  select.env.addEventListener("change", refreshMethod);
  select.method.addEventListener("change", refreshW);
  select.w.addEventListener("change", refreshRun);
  select.run.addEventListener("change", () => load(Number(select.run.value)));
  select.task.addEventListener("change", refreshSeed);
  select.seed.addEventListener("change", render);
  failuresOnly.addEventListener("change", refreshTasks);
  for (const button of document.querySelectorAll("button[data-evaluation]")) {
    button.addEventListener("click", () => open(Number(button.dataset.evaluation)));
  }
  refreshEnv();
})();
