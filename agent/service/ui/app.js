// Loupe's web page: pick photos, ask, watch the plan and each step stream in (SSE over fetch), approve
// edits, see and download the answer, and go back to earlier runs of this browser session.
"use strict";

// A /?token= link set the token as an HttpOnly cookie (the server did, on this page load): take the token
// out of the address bar and this history entry, so it is not shown, bookmarked or shared.
(function dropTokenFromURL() {
  const url = new URL(window.location.href);
  if (!url.searchParams.has("token")) return;
  url.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
})();

const $ = (id) => document.getElementById(id);
const files = { image: null, right: null };
let current = null; // the run being shown: {id, query, result}

function show(el, on) { el.hidden = !on; }
function text(el, value, muted = false) { el.textContent = value; el.classList.toggle("muted", muted); }

function setupDrop(name) {
  const zone = $("drop-" + name), input = $(name), preview = $("preview-" + name);
  const take = (file) => {
    if (!file) return;
    files[name] = file;
    preview.src = URL.createObjectURL(file);
    show(preview, true);
    zone.querySelector(".hint").hidden = true;
  };
  input.addEventListener("change", () => take(input.files[0]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); take(e.dataTransfer.files[0]); });
}

async function loadLLMs() {
  try {
    const health = await (await fetch("/v1/health")).json();
    $("llm").innerHTML = "";
    for (const spec of health.llms) {
      const option = document.createElement("option");
      option.value = spec; option.textContent = spec.startsWith("oracle:") ? "oracle (scripted)" : spec;
      $("llm").append(option);
    }
  } catch (e) { showError("cannot reach the server: " + e); }
}

function showError(message) { $("error").textContent = message; show($("error"), !!message); }

function resetRun(query) {
  showError("");
  show($("approval-box"), false);
  text($("program"), "planning ...", true);
  $("program-source").textContent = "";
  $("steps").innerHTML = "";
  text($("answer"), "working on: " + query, true);
  $("answer-links").innerHTML = "";
}

// ---- events ---------------------------------------------------------------------------------------

const handlers = {
  run(e) { current.id = e.id; },
  plan(e) { text($("program"), e.program.trim()); $("program-source").textContent = e.source === "cache" ? "(from the program cache)" : "(planned by the LLM)"; },
  check(e) { if (e.ok) text($("program"), e.program.trim()); else text($("program"), $("program").textContent + "\n\n# check: " + e.errors.join("\n# ")); },
  repair(e) { text($("program"), e.program.trim()); $("program-source").textContent = "(repaired)"; },
  replan(e) { text($("program"), e.program.trim()); $("program-source").textContent = "(replanned after a failed step)"; $("steps").innerHTML = ""; },
  step(e) { addStep(e); },
  saycan(e) { addStep({ output: e.chosen, module: "SayCan", status: "ok", wall_ms: 0, value: e.candidates.slice(0, 3).map((c) => c[0]).join(" | ") }); },
  approval_required(e) {
    $("edits").textContent = e.edits.join(", ");
    show($("approval-box"), true);
    $("approve").onclick = () => decide(e.approve_url);
    $("reject").onclick = () => decide(e.reject_url);
  },
  approval() { show($("approval-box"), false); },
  done(e) { showResult(e.result || { status: e.status, errors: ["the run ended without a result"] }); },
  error(e) { showError(e.error); },
};

function addStep(e) {
  const li = document.createElement("li");
  li.className = e.status;
  li.dataset.output = e.output;
  const body = document.createElement("div");
  const detail = e.error || e.value || "";
  body.innerHTML = `<div><span class="call"></span><span class="badge ${e.status}"></span>
    <span class="meta"></span></div><div class="value"></div>`;
  body.querySelector(".call").textContent = `${e.output} = ${e.module}`;
  body.querySelector(".badge").textContent = e.status;
  body.querySelector(".meta").textContent = `${Math.round(e.wall_ms)} ms${e.backend ? " · " + e.backend : ""}${e.batch > 1 ? " · batch of " + e.batch : ""}`;
  body.querySelector(".value").textContent = detail.length > 160 ? detail.slice(0, 157) + "..." : detail;
  if (e.thumbnail) {
    const img = document.createElement("img");
    img.src = e.thumbnail; img.alt = `${e.output} thumbnail`; img.className = "thumb";
    li.append(img);
  }
  li.prepend(body);
  const old = [...$("steps").children].find((x) => x.dataset.output === e.output);
  old ? old.replaceWith(li) : $("steps").append(li);
}

function showResult(result) {
  current.result = result;
  show($("approval-box"), false);
  $("ask").disabled = false;
  const answer = $("answer");
  answer.innerHTML = "";
  answer.classList.remove("muted");
  if (result.status === "unsupported") {
    text(answer, `Not answered: ${result.reason || "the installed tools cannot answer this"}`, true);
  } else if (result.status !== "ok" && result.status !== "partial") {
    text(answer, result.status === "rejected" ? "The edit was not run (rejected)." : `No answer (${result.status})`, true);
    if (result.errors && result.errors.length) showError(result.errors.join("\n"));
  } else if (result.answer_type === "image") {
    const img = document.createElement("img");
    img.src = result.image_url; img.alt = "edited image"; img.dataset.testid = "edited";
    answer.append(img);
  } else {
    answer.textContent = String(result.answer);
  }
  if (result.status === "partial") {
    const note = document.createElement("p");
    note.className = "partial-note"; note.dataset.testid = "partial";
    note.textContent = `Partial answer — ${result.reason}`;
    answer.append(note);
  }
  const links = $("answer-links");
  links.innerHTML = "";
  const link = (href, label, download) => {
    const a = document.createElement("a"); a.href = href; a.textContent = label; a.target = "_blank";
    if (download) a.setAttribute("download", ""); links.append(a);
  };
  if (result.image_url) link(result.image_url + "?download=true", "Download the edited image", true);
  if (result.rationale_url) link(result.rationale_url, "Visual rationale");
  if (result.steps) for (const s of result.steps) addStep(s);
  if (result.program) text($("program"), result.program.trim());
  remember(current);
}

// ---- asking ---------------------------------------------------------------------------------------

async function ask(event) {
  event.preventDefault();
  const query = $("query").value.trim();
  if (!files.image) return showError("Pick or drop a photo first.");
  if (!query) return showError("Type a question or an instruction.");
  const form = new FormData();
  form.append("image", files.image);
  if (files.right) form.append("right", files.right);
  form.append("query", query);
  form.append("mode", $("mode").value);
  if ($("llm").value) form.append("llm", $("llm").value);
  form.append("require_approval", $("approval").checked ? "true" : "false");
  current = { id: null, query, result: null };
  resetRun(query);
  $("ask").disabled = true;
  try {
    const response = await fetch("/v1/ask", { method: "POST", body: form, headers: { Accept: "text/event-stream" } });
    if (!response.ok) {
      const body = await response.json().catch(() => ({ error: response.statusText }));
      throw new Error(body.error + (response.status === 503 ? ` (retry after ${response.headers.get("Retry-After")} s)` : ""));
    }
    await readEvents(response);
  } catch (e) {
    showError(String(e.message || e));
    text($("answer"), "No answer.", true);
  } finally {
    $("ask").disabled = false;
  }
}

async function readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (!data) continue;
      const event = JSON.parse(data);
      (handlers[event.event] || (() => {}))(event);
    }
  }
}

async function decide(url) {
  show($("approval-box"), false);
  const response = await fetch(url, { method: "POST" });
  if (!response.ok) showError((await response.json()).error);
}

// ---- history --------------------------------------------------------------------------------------

function history() { return JSON.parse(sessionStorage.getItem("loupe-history") || "[]"); }

function remember(run) {
  if (!run.id || !run.result) return;
  const items = history().filter((h) => h.id !== run.id);
  items.unshift({ id: run.id, query: run.query, status: run.result.status, result: run.result });
  sessionStorage.setItem("loupe-history", JSON.stringify(items.slice(0, 30)));
  drawHistory();
}

function drawHistory() {
  const list = $("history");
  list.innerHTML = "";
  for (const item of history()) {
    const li = document.createElement("li");
    const answer = item.result.answer_type === "image" ? "(edited image)" : item.result.answer;
    li.textContent = `${item.query} → ${item.status === "ok" || item.status === "partial" ? answer : item.status}`;
    li.onclick = () => { current = { id: item.id, query: item.query }; resetRun(item.query); showResult(item.result); };
    list.append(li);
  }
}

setupDrop("image");
setupDrop("right");
$("ask-form").addEventListener("submit", ask);
loadLLMs();
drawHistory();
