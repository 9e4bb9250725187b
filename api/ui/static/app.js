// Bamboo web UI: explorer, tagging (paper Fig. 3a) and verification (Fig. 3b) screens.
// Plain JS against the service's own REST API; pages are routed in the browser from location.pathname.
"use strict";

const ENTITY = "wn:n00001740";
const LANGS = [["", "any language"], ["en", "English"], ["zh", "Chinese"], ["es", "Spanish"], ["nl", "Dutch"], ["it", "Italian"]];
const main = () => document.getElementById("main");
const state = { voted: 0, keyHandler: null };

// --- helpers ----------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// replaceChildren writes a null child as the text "null": leave out what is not there.
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

function say(message, error = false) {
  const s = document.getElementById("status");
  s.textContent = message;
  s.classList.toggle("error", error);
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : response.statusText;
    const err = new Error(`${response.status}: ${detail}`);
    err.status = response.status;
    throw err;
  }
  return body;
}

function who() {
  const annotator = document.getElementById("annotator").value.trim();
  const key = document.getElementById("apikey").value;
  return { annotator, key };
}

function requireWho() {
  const { annotator, key } = who();
  if (!annotator || !/^[\w.@+-]+$/.test(annotator)) {
    say("Enter your annotator name first (letters, digits, . @ + -).", true);
    document.getElementById("annotator").focus();
    return null;
  }
  if (!key) {
    say("Enter the API key first: votes are write requests.", true);
    document.getElementById("apikey").focus();
    return null;
  }
  return { annotator, key };
}

async function post(path, body, key) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": key },
    body: JSON.stringify(body),
  });
}

function conceptLink(id, name) {
  return h("a", { href: `/ui/concept/${encodeURIComponent(id)}`, "data-link": true }, name || id);
}

function tagBadge(t) {
  const text = t.decision === true ? "yes" : t.decision === false ? "no" : "undecided";
  return h("span", { class: `tag ${t.decision === true ? "yes" : t.decision === false ? "no" : ""}` },
    `${t.tag}: ${text} (${t.yes} yes, ${t.no} no, ${t.votes_left} left)`);
}

function page(title, ...children) {
  const m = main();
  fill(m, h("h1", { id: "title", tabindex: "-1" }, title), ...children);
  document.title = `${title} · Bamboo`;
  document.getElementById("title").focus();
}

function onKeys(handler) {
  state.keyHandler = handler;
}

document.addEventListener("keydown", (e) => {
  if (!state.keyHandler || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
  const k = e.key.toLowerCase();
  if (["y", "n", "s"].includes(k)) { e.preventDefault(); state.keyHandler(k); }
});

// --- explorer ---------------------------------------------------------------------------------

async function explorer(params) {
  const q = params.get("q") || "";
  const lang = params.get("lang") || "";
  const input = h("input", { id: "q", name: "q", type: "search", value: q, required: true, autocomplete: "off" });
  const select = h("select", { id: "lang", name: "lang" },
    LANGS.map(([v, label]) => h("option", { value: v, selected: v === lang }, label)));
  const results = h("div", { id: "results" });
  const form = h("form", { class: "search", role: "search", onsubmit: (e) => {
      e.preventDefault();
      const p = new URLSearchParams({ q: input.value.trim() });
      if (select.value) p.set("lang", select.value);
      navigate(`/ui/?${p}`);
    } },
    h("div", {}, h("label", { for: "q" }, "Search concepts (any language)"), input),
    h("div", {}, h("label", { for: "lang" }, "Language"), select),
    h("button", { type: "submit", class: "primary" }, "Search"));
  page("Explore the label system", form, results,
    h("p", { class: "muted" }, "Or start at the root: ", conceptLink(ENTITY, "entity")));
  if (!q) { input.focus(); return; }
  const p = new URLSearchParams({ q, limit: "30" });
  if (lang) p.set("lang", lang);
  const hits = await api(`/search?${p}`);
  results.replaceChildren(
    h("h2", {}, `${hits.length} result${hits.length === 1 ? "" : "s"} for “${q}”`),
    h("ul", { class: "hits" }, hits.map((x) => h("li", {}, conceptLink(x.id, x.name), " ",
      h("span", { class: "muted" }, `${x.id} · matched “${x.matched}” (${x.lang}, ${x.match})`)))));
  say(`${hits.length} results`);
}

function table(headers, rows) {
  return h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c ?? "")))))));
}

function treeNode(id, name, count) {
  const details = h("details", { "data-id": id });
  const list = h("ul");
  const summary = h("summary", {}, name, count != null ? h("span", { class: "muted" }, ` (${count})`) : null);
  details.append(summary, list);
  details.addEventListener("toggle", async () => {
    if (!details.open || details.dataset.loaded) return;
    details.dataset.loaded = "1";
    const kids = await api(`/concepts/${encodeURIComponent(id)}/children?counts=true`);
    list.replaceChildren(...kids.slice(0, 200).map((k) => h("li", {},
      k.children ? treeNode(k.id, k.name, k.descendants) : conceptLink(k.id, k.name))));
    if (kids.length > 200) list.append(h("li", { class: "muted" }, `… ${kids.length - 200} more`));
  });
  return details;
}

async function conceptPage(id) {
  const [c, path, kids] = await Promise.all([
    api(`/concepts/${encodeURIComponent(id)}`),
    api(`/path?from=${encodeURIComponent(ENTITY)}&to=${encodeURIComponent(id)}`).catch(() => null),
    api(`/concepts/${encodeURIComponent(id)}/children?counts=true`),
  ]);
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Ancestors" },
    h("ol", {}, (path ? path.path.slice(0, -1) : []).map((p, i) => h("li", {}, conceptLink(p, path.names[i]))),
      h("li", { "aria-current": "page" }, c.name)));
  const labels = Object.entries(c.labels).map(([lang, ls]) => [lang, ls.join(", ")]);
  const parents = c.parents.map((p) => [conceptLink(p.id, p.name), p.kind, p.source, p.method,
    p.confidence != null ? p.confidence.toFixed(3) : ""]);
  const datasets = c.datasets.map((d) => [d.dataset, d.index, d.raw_name, d.method,
    d.confidence != null ? d.confidence.toFixed(3) : ""]);
  const children = h("ul", { id: "children" }, kids.map((k) => h("li", {}, conceptLink(k.id, k.name),
    h("span", { class: "muted" }, ` ${k.children} children · ${k.descendants} descendants`))));
  page(c.name,
    crumbs,
    h("p", { class: "muted" }, `${c.id}${c.lexname ? " · " + c.lexname : ""}`),
    h("p", { id: "gloss" }, c.gloss || "(no gloss)"),
    h("div", { class: "grid" },
      h("section", { "aria-labelledby": "h-labels" }, h("h2", { id: "h-labels" }, "Lemmas and labels"),
        h("p", {}, c.lemmas.join(", ") || "—"), table(["language", "labels"], labels)),
      h("section", { "aria-labelledby": "h-tags" }, h("h2", { id: "h-tags" }, "Tags (3 of 5 votes)"),
        h("p", { id: "tags" }, tagBadge(c.tags.visual), " ", tagBadge(c.tags.common)),
        h("p", {}, h("a", { href: `/ui/tag?concept=${encodeURIComponent(c.id)}`, "data-link": true, id: "vote-link" },
          "Vote on this concept's tags")),
        h("h2", {}, "Sources"), h("p", { id: "sources" }, c.sources.join(", ") || "—"))),
    h("section", { "aria-labelledby": "h-parents" }, h("h2", { id: "h-parents" }, "Parents and link provenance"),
      table(["parent", "kind", "source", "method", "confidence"], parents)),
    h("section", { "aria-labelledby": "h-datasets" }, h("h2", { id: "h-datasets" }, `Datasets (${c.datasets.length})`),
      c.datasets.length ? table(["dataset", "class index", "class name", "method", "confidence"], datasets)
        : h("p", { class: "muted" }, "No dataset has a class for this concept.")),
    h("div", { class: "grid" },
      h("section", { "aria-labelledby": "h-children" }, h("h2", { id: "h-children" }, `Children (${kids.length})`),
        kids.length ? children : h("p", { class: "muted" }, "A leaf.")),
      h("section", { "aria-labelledby": "h-tree", class: "tree" }, h("h2", { id: "h-tree" }, "Tree"),
        treeNode(c.id, c.name, null))));
  say(`${c.name}: ${c.parents.length} parents, ${kids.length} children`);
}

// --- tagging (Fig. 3a) ------------------------------------------------------------------------

async function references(concept) {
  try {
    const refs = await api(`/tasks/references?concept=${encodeURIComponent(concept)}`);
    return refs.map((r) => h("img", { src: r.image_url, alt: `verified image of ${r.query_name}` }));
  } catch (_) { return []; }  // no task store: no reference images
}

async function tagging(params) {
  const tag = params.get("tag") === "common" ? "common" : "visual";
  const select = h("select", { id: "tag-kind", onchange: (e) => {
      const p = new URLSearchParams(params);
      p.set("tag", e.target.value);
      navigate(`/ui/tag?${p}`);
    } },
    ["visual", "common"].map((t) => h("option", { value: t, selected: t === tag }, t)));
  const card = h("div", { class: "card", id: "card" }, "Loading…");
  const last = h("p", { id: "last-decision", "aria-live": "polite" });
  const progress = h("p", { id: "progress", class: "muted" });
  page("Tagging", h("p", {}, h("label", { for: "tag-kind" }, "Tag to vote on: "), select), progress, card, last,
    h("p", { class: "muted" }, "Keys: ", h("kbd", {}, "Y"), " yes · ", h("kbd", {}, "N"), " no · ",
      h("kbd", {}, "S"), " skip"));
  const skipped = new Set();
  const only = params.get("concept");  // deep link: vote on this one concept
  async function next() {
    const { annotator } = who();
    let item;
    if (only) {
      const c = await api(`/concepts/${encodeURIComponent(only)}`);
      const t = c.tags[tag];
      progress.textContent = `${state.voted} votes cast here · this concept: ${t.yes} yes, ${t.no} no`;
      item = { id: c.id, name: c.name, gloss: c.gloss, votes: t.yes + t.no };
    } else {
      const p = new URLSearchParams({ tag, limit: "50" });
      if (annotator) p.set("annotator", annotator);
      const queue = (await api(`/tags/queue?${p}`)).filter((x) => !skipped.has(x.id));
      progress.textContent = `${state.voted} votes cast here · ${queue.length}${queue.length === 50 ? "+" : ""} concepts waiting`;
      if (!queue.length) { card.replaceChildren("Nothing left to vote on for this tag."); onKeys(null); return; }
      item = queue[0];
    }
    const refs = await references(item.id);
    const answer = async (value) => {
      const w = requireWho();
      if (!w) return;
      const d = await post("/tags/votes", { annotator: w.annotator, concept: item.id, tag, value }, w.key);
      state.voted += 1;
      const decided = d.decision === null ? "undecided" : d.decision ? `decided: ${tag}` : `decided: not ${tag}`;
      last.textContent = `${item.name}: ${d.yes} yes, ${d.no} no — ${decided}`;
      say(`Vote recorded for ${item.name}.`);
      await next();
    };
    const question = tag === "visual" ? "a visual concept" : "a common concept";
    fill(card,
      h("p", { class: "question", id: "question" }, "Is ", h("strong", {}, item.name), ` ${question}?`),
      h("p", {}, item.gloss || "(no description)"),
      h("p", { class: "muted" }, `${item.id} · ${item.votes} vote(s) so far · `, conceptLink(item.id, "details")),
      refs.length ? h("div", { class: "refs", "aria-label": "Reference images" }, refs) : null,
      h("div", { class: "answers" },
        h("button", { id: "yes", class: "primary", onclick: () => answer(true).catch(fail) }, "Yes (Y)"),
        h("button", { id: "no", onclick: () => answer(false).catch(fail) }, "No (N)"),
        only ? null : h("button", { id: "skip", onclick: () => { skipped.add(item.id); next().catch(fail); } }, "Skip (S)")));
    onKeys((k) => { const b = document.getElementById(k === "y" ? "yes" : k === "n" ? "no" : "skip"); if (b) b.click(); });
  }
  await next();
}

// --- verification (Fig. 3b) -------------------------------------------------------------------

async function verification() {
  const card = h("div", { class: "card task", id: "card" }, "Loading…");
  const last = h("p", { id: "last-decision", "aria-live": "polite" });
  const progress = h("p", { id: "progress", class: "muted" });
  page("Verification", progress, card, last,
    h("p", { class: "muted" }, "Keys: ", h("kbd", {}, "Y"), " yes · ", h("kbd", {}, "N"), " no · ",
      h("kbd", {}, "S"), " skip"));
  const skipped = new Set();
  async function next() {
    const { annotator } = who();
    const p = new URLSearchParams({ limit: "50" });
    if (annotator) p.set("annotator", annotator);
    let tasks, prog;
    try {
      [tasks, prog] = await Promise.all([api(`/tasks/next?${p}`), api("/tasks/progress")]);
    } catch (e) {
      card.replaceChildren(e.status === 503 ? "The service has no task store (BAMBOO_TASKS_DB)." : String(e));
      return;
    }
    progress.textContent = `${prog.decided} of ${prog.tasks} tasks decided · ${prog.valid} valid · ${prog.votes} votes`;
    tasks = tasks.filter((t) => !skipped.has(t.id));
    if (!tasks.length) { card.replaceChildren("No tasks need your answer."); onKeys(null); return; }
    const t = tasks[0];
    const answer = async (value) => {
      const w = requireWho();
      if (!w) return;
      const d = await post(`/tasks/${t.id}/votes`, { annotator: w.annotator, value }, w.key);
      const decided = d.decision === null ? "undecided" : d.decision ? "valid" : "not valid";
      // P(yes) only after the answer: shown before, it would anchor the annotator's own judgement
      const belief = d.p_yes === null ? "" : ` (P(yes) ${d.p_yes.toFixed(2)}, risk ${d.risk.toFixed(3)})`;
      last.textContent = `Task ${t.id} (${t.query_name}): ${d.yes} yes, ${d.no} no — ${decided}${belief}`;
      say(`Answer recorded for task ${t.id}.`);
      await next();
    };
    fill(card,
      h("p", { class: "question", id: "question" }, "Is this a ", h("strong", {}, t.query_name), "?"),
      h("img", { src: t.image_url, alt: `Pool image of task ${t.id}, crawled for “${t.query_name}”` }),
      h("p", {}, t.description || "(no description)"),
      h("p", { class: "muted", id: "task-meta" },
        `task ${t.id} · round ${t.round} · ${t.yes + t.no} answer(s) so far · `,
        // adaptive stores: how far the task is from being decided (the risk, not which way it leans)
        t.risk === null ? "" : `risk ${t.risk.toFixed(3)}, decided below ${t.max_risk} · `,
        conceptLink(t.query, t.query)),
      h("div", { class: "answers" },
        h("button", { id: "yes", class: "primary", onclick: () => answer(true).catch(fail) }, "Yes (Y)"),
        h("button", { id: "no", onclick: () => answer(false).catch(fail) }, "No (N)"),
        h("button", { id: "skip", onclick: () => { skipped.add(t.id); next().catch(fail); } }, "Skip (S)")));
    onKeys((k) => document.getElementById(k === "y" ? "yes" : k === "n" ? "no" : "skip").click());
  }
  await next();
}

// --- routing ----------------------------------------------------------------------------------

function fail(e) {
  say(String(e.message || e), true);
}

async function route() {
  onKeys(null);
  const url = new URL(location.href);
  const path = url.pathname.replace(/^\/ui\/?/, "");
  for (const a of document.querySelectorAll("nav a")) a.removeAttribute("aria-current");
  const current = (id) => document.getElementById(id).setAttribute("aria-current", "page");
  try {
    if (path.startsWith("concept/")) { current("nav-explore"); await conceptPage(decodeURIComponent(path.slice(8))); }
    else if (path === "tag") { current("nav-tag"); await tagging(url.searchParams); }
    else if (path === "verify") { current("nav-verify"); await verification(); }
    else { current("nav-explore"); await explorer(url.searchParams); }
  } catch (e) {
    if (e.status === 404) page("Not found", h("p", {}, String(e.message)), h("p", {}, h("a", { href: "/ui/", "data-link": true }, "Back to search")));
    fail(e);
  }
}

function navigate(href) {
  history.pushState(null, "", href);
  route();
}

document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest("a[data-link]");
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", route);

document.addEventListener("DOMContentLoaded", () => {
  for (const id of ["annotator", "apikey"]) {
    const el = document.getElementById(id);
    el.value = sessionStorage.getItem(`bamboo.${id}`) || "";
    el.addEventListener("change", () => {
      sessionStorage.setItem(`bamboo.${id}`, el.value);
      if (id === "annotator" && /^\/ui\/(tag|verify)/.test(location.pathname)) route();  // their own queue
    });
  }
  document.getElementById("who").addEventListener("submit", (e) => e.preventDefault());
  route();
});
