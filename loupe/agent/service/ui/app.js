// Loupe's web page: pick photos or a video (or an example), ask, watch the plan and each step stream in (SSE over
// fetch) with a progress bar and a cancel button, approve edits, compare an edit with its photo (or play an
// edited video beside its original), see a video's tracks with their times, download the edit, ask
// follow-ups in a conversation (conversation.js), and go back to earlier runs of this browser session
// (history.js).
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
const files = { image: null, right: null };     // the photos the next question is about
const previews = { image: null, right: null };  // their object URLs (the "before" of an edit)
let current = null;  // the run being shown: {id, query, mode, photos, result, controller}

function show(el, on) { el.hidden = !on; }
function text(el, value, muted = false) { el.textContent = value; el.classList.toggle("muted", muted); }

// ---- photos ---------------------------------------------------------------------------------------

// A video is asked about on its own: no second photo, mode, LLM or conversation (the server reads it with
// Loupe's own time words). Judged here by type or name only to choose the preview; the server checks its bytes.
const VIDEO_NAME = /\.(mp4|m4v|mov|avi|mkv|webm)$/i;
function isVideo(file) { return !!file && (file.type.startsWith("video/") || VIDEO_NAME.test(file.name)); }

function dropError(name, message) { const el = $("drop-error-" + name); el.textContent = message; show(el, !!message); }

function setPhoto(name, file) {
  clearPhoto(name);
  newConversation();  // a conversation is about its photos: others start a new one
  if (!file) return;
  files[name] = file;
  previews[name] = URL.createObjectURL(file);
  const hint = $("drop-" + name).querySelector(".hint");
  if (name === "image" && isVideo(file)) {  // a player, paused on its first frame (no autoplay)
    const player = $("preview-video");
    player.src = previews[name];
    show(player, true);
    show(hint, false);
    show($("remove-" + name), true);
    return;
  }
  const preview = $("preview-" + name);
  preview.onerror = () => {  // the browser cannot show it: no broken picture; the server still judges the file
    show(preview, false);
    show(hint, true);
    hint.textContent = `${file.name} (no preview)`;
  };
  preview.src = previews[name];
  show(preview, true);
  show(hint, false);
  show($("remove-" + name), true);
}

function clearPhoto(name) {
  if (previews[name]) URL.revokeObjectURL(previews[name]);
  files[name] = previews[name] = null;
  $(name).value = "";
  const preview = $("preview-" + name), hint = $("drop-" + name).querySelector(".hint");
  preview.removeAttribute("src");
  show(preview, false);
  if (name === "image") {
    const player = $("preview-video");
    player.removeAttribute("src"); player.load(); show(player, false);
  }
  hint.textContent = hint.dataset.text;
  show(hint, true);
  show($("remove-" + name), false);
  dropError(name, "");
}

function setupDrop(name) {
  const zone = $("drop-" + name), input = $(name);
  const hint = zone.querySelector(".hint");
  hint.dataset.text = hint.textContent;
  input.addEventListener("change", () => setPhoto(name, input.files[0]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); setPhoto(name, e.dataTransfer.files[0]); });
  $("remove-" + name).addEventListener("click", () => { clearPhoto(name); newConversation(); });
}

async function fileFrom(url, name) {
  const blob = await (await fetch(url)).blob();
  return new File([blob], name, { type: blob.type || "image/jpeg" });
}

function setupExamples() {
  for (const button of document.querySelectorAll(".example-photo")) {
    button.addEventListener("click", async () => {
      setPhoto("image", await fileFrom("/ui/examples/" + button.dataset.photo, button.dataset.photo));
      clearPhoto("right");
      $("query").value = button.dataset.query;
    });
  }
  for (const button of document.querySelectorAll(".example-query")) {
    button.addEventListener("click", () => { $("query").value = button.textContent; $("query").focus(); });
  }
}

// ---- the page's state -----------------------------------------------------------------------------

async function loadLLMs() {
  try {
    const health = await (await fetch("/v1/health")).json();
    $("llm").innerHTML = "";
    for (const spec of health.llms) {
      const option = document.createElement("option");
      option.value = spec; option.textContent = spec.startsWith("oracle:") ? "oracle (scripted)" : spec;
      $("llm").append(option);
    }
    if (health.require_approval) {  // the server makes every edit wait: the box says so, and cannot be unticked
      $("approval").checked = true;
      $("approval").disabled = true;
      show($("approval-required"), true);
    }
  } catch (e) { showError("cannot reach the server: " + e); }
}

function showError(message) { $("error").textContent = message; show($("error"), !!message); }

function progress(label, value = null, max = null) {
  show($("progress-box"), !!label);
  $("progress-text").textContent = label || "";
  const bar = $("progress-bar");
  if (max !== null) bar.max = max;
  if (value === null) bar.removeAttribute("value"); else bar.value = value;  // no value: indeterminate
}

function busy(on) {
  $("ask").disabled = on;
  $("new-conversation").disabled = on;
  show($("cancel"), on);
}

function resetRun(query) {
  showError("");
  dropError("image", ""); dropError("right", "");
  show($("approval-box"), false);
  text($("program"), "planning ...", true);
  $("program-source").textContent = "";
  $("steps").innerHTML = "";
  text($("answer"), "working on: " + query, true);
  $("answer-links").innerHTML = "";
}

// Back to "nothing asked" after a run that never started (a refused upload, an unreachable server).
function idle() {
  text($("program"), "The plan appears here.", true);
  $("program-source").textContent = "";
  text($("answer"), "No answer.", true);
  progress("");
  busy(false);
  if (current) dropTurn(current.turn);
}

// Why a run has no answer, in words (a status other than ok and partial).
function outcome(result) {
  const ended = { rejected: "The edit was not run (rejected).", cancelled: "Cancelled.",
                  needs_clarification: "Loupe asks: " + result.reason,
                  unsupported: `Not answered: ${result.reason || "the installed tools cannot answer this"}` };
  return ended[result.status] || `No answer (${result.status})`;
}

// ---- events ---------------------------------------------------------------------------------------

function stepCount(program) { return program.split("\n").filter((l) => /^\s*[A-Za-z_]\w*\s*=/.test(l)).length; }

function stepProgress() {
  const total = current.steps || 0, done = $("steps").children.length;
  if (!total) return progress(`${done} steps done`);
  progress(done < total ? `Step ${done + 1} of ${total} running` : `${total} of ${total} steps done`, done, total);
}

const handlers = {
  run(e) { current.id = e.id; progress("Planning ..."); },
  plan(e) {
    text($("program"), e.program.trim());
    const sources = { cache: "(from the program cache)", rank: "(ranked from the program library)" };
    $("program-source").textContent = sources[e.source] || "(written by the LLM)";
    progress("Checking the program ...");
  },
  check(e) {
    if (!e.ok) return text($("program"), $("program").textContent + "\n\n# check: " + e.errors.join("\n# "));
    text($("program"), e.program.trim());
    current.steps = stepCount(e.program);
    stepProgress();
  },
  repair(e) { text($("program"), e.program.trim()); $("program-source").textContent = "(repaired)"; },
  replan(e) {
    text($("program"), e.program.trim()); $("program-source").textContent = "(replanned after a failed step)";
    $("steps").innerHTML = ""; current.steps = stepCount(e.program); stepProgress();
  },
  step(e) { addStep(e); stepProgress(); },
  saycan(e) { addStep({ output: e.chosen, module: "SayCan", status: "ok", wall_ms: 0, value: e.candidates.slice(0, 3).map((c) => c[0]).join(" | ") }); },
  approval_required(e) {
    $("edits").textContent = e.edits.join(", ");
    $("edited-kind").textContent = current.video ? "video" : "image";
    show($("approval-box"), true);
    progress("Waiting for your approval", 0, 1);
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

// An edit over its photo: the slider uncovers the edit from the left ("before" left of it, "after" right).
function compare(before, after) {
  const box = document.createElement("div");
  box.className = "compare"; box.dataset.testid = "compare";
  box.innerHTML = `<img class="before" alt="the photo before the edit"><img class="after" alt="edited image">
    <input type="range" min="0" max="100" value="50" aria-label="before / after" data-testid="compare-slider">
    <span class="tag left">before</span><span class="tag right">after</span>`;
  box.querySelector(".before").src = before;
  const edited = box.querySelector(".after");
  edited.src = after; edited.dataset.testid = "edited";
  const slider = box.querySelector("input");
  const cut = () => box.style.setProperty("--cut", slider.value + "%");
  slider.addEventListener("input", cut);
  cut();
  return box;
}

// An edited video beside its original: two players, paused, each with its own controls.
function videoPair(before, after) {
  const box = document.createElement("div");
  box.className = "video-pair"; box.dataset.testid = "video-pair";
  for (const [src, label, testid] of [[before, "before", "original-video"], [after, "after", "edited-video"]]) {
    if (!src) continue;
    const figure = document.createElement("figure"), player = document.createElement("video");
    player.src = src; player.controls = true; player.muted = true; player.preload = "metadata";
    player.dataset.testid = testid;
    const caption = document.createElement("figcaption");
    caption.textContent = label;
    figure.append(player, caption);
    box.append(figure);
  }
  return box;
}

// A video's tracks: one row each, with when it was first and last seen.
function trackTable(tracks) {
  const table = document.createElement("table");
  table.className = "tracks"; table.dataset.testid = "tracks";
  table.innerHTML = "<caption></caption><thead><tr><th>track</th><th>label</th><th>first seen</th><th>last seen</th>" +
    "<th>frames</th></tr></thead><tbody></tbody>";
  table.querySelector("caption").textContent = `${tracks.length} track${tracks.length === 1 ? "" : "s"}`;
  for (const t of tracks) {
    const row = document.createElement("tr");
    for (const cell of [t.id, t.label, `${t.first_s.toFixed(1)} s`, `${t.last_s.toFixed(1)} s`, t.frames]) {
      const td = document.createElement("td"); td.textContent = String(cell); row.append(td);
    }
    table.querySelector("tbody").append(row);
  }
  return table;
}

function showResult(result, keep = true) {
  current.result = result;
  show($("approval-box"), false);
  busy(false);
  const total = (result.steps || []).length;
  progress(result.status === "ok" || result.status === "partial" ? `Done: ${total} steps` : `Ended: ${result.status}`,
    total, total || 1);
  const answer = $("answer");
  answer.innerHTML = "";
  answer.classList.remove("muted");
  if (result.status === "needs_clarification") {
    text(answer, outcome(result));  // the question a follow-up must answer: not greyed out
  } else if (result.status !== "ok" && result.status !== "partial") {
    text(answer, outcome(result), true);
    if (result.status !== "unsupported" && result.errors && result.errors.length) showError(result.errors.join("\n"));
  } else if (result.answer_type === "image" && result.said) {  // undo, or a switch of photo: no edit to compare
    const said = document.createElement("p"), img = document.createElement("img");
    said.className = "said"; said.textContent = result.said;
    img.src = result.image_url; img.alt = result.said; img.dataset.testid = "shown";
    answer.append(said, img);
  } else if (result.answer_type === "video") {
    answer.append(videoPair(current.photos && current.photos.image, result.video_url));
  } else if (result.answer_type === "image") {
    const before = current.photos && current.photos.image;
    if (before) answer.append(compare(before, result.image_url));
    else {
      const img = document.createElement("img");
      img.src = result.image_url; img.alt = "edited image"; img.dataset.testid = "edited";
      answer.append(img);
    }
  } else {
    answer.textContent = String(result.answer);
  }
  if (result.tracks && result.tracks.length) answer.append(trackTable(result.tracks));
  if (result.status === "partial" || (result.status === "ok" && result.reason)) {   // ok: how words were read
    const partial = result.status === "partial";
    const note = document.createElement("p");
    note.className = "partial-note"; note.dataset.testid = partial ? "partial" : "note";
    note.textContent = partial ? `Partial answer — ${result.reason}` : `Note — ${result.reason}`;
    answer.append(note);
  }
  const links = $("answer-links");
  links.innerHTML = "";
  const link = (href, label, download) => {
    const a = document.createElement("a"); a.href = href; a.textContent = label; a.target = "_blank";
    if (download) a.setAttribute("download", ""); links.append(a);
  };
  if (result.image_url) link(result.image_url + "?download=true", "Download the edited image", true);
  if (result.video_url) link(result.video_url + "?download=true", "Download the edited video", true);
  if (result.rationale_url) link(result.rationale_url, "Visual rationale");
  if (result.steps) for (const s of result.steps) addStep(s);
  if (result.program) text($("program"), result.program.trim());
  else if (!total) text($("program"), "No program: this turn ran none.", true);
  if (keep) { remember(current); settleTurn(current.turn, result); }
}

// ---- asking ---------------------------------------------------------------------------------------

async function ask(event) {
  event.preventDefault();
  const query = $("query").value.trim();
  if (!files.image && !conversation) return showError("Pick or drop a photo first, or click an example.");
  if (!query) return showError("Type a question or an instruction.");
  const form = new FormData();
  const video = !conversation && isVideo(files.image);
  if (video && files.right) return showError("A video is asked about on its own: remove the second photo.");
  if (!conversation) {  // the first turn sends the photos; a follow-up is about the session's current image
    form.append("image", files.image);
    if (files.right) form.append("right", files.right);
  }
  form.append("query", query);
  if (!video) {  // a video question is read by Loupe's time words: no mode, LLM or conversation
    form.append("mode", $("mode").value);
    if ($("llm").value) form.append("llm", $("llm").value);
  }
  form.append("require_approval", $("approval").checked ? "true" : "false");
  if (!video) form.append("session", conversation ? conversation.id : "new");
  const controller = new AbortController();
  current = { id: null, query, mode: video ? "video" : $("mode").value, result: null, controller,
              files: { ...files }, video,
              photos: { image: conversation ? conversation.now.url : previews.image, right: previews.right } };
  resetRun(query);
  current.turn = startTurn(query);
  busy(true);
  progress(video ? "Sending the video ..." : "Sending the photo ...");
  const thumbnails = Promise.all([thumbnailOf(files.image), thumbnailOf(files.right)]);
  current.thumbnails = thumbnails;
  try {
    const response = await fetch("/v1/ask", { method: "POST", body: form, signal: controller.signal,
                                              headers: { Accept: "text/event-stream" } });
    if (!response.ok) return refused(response);
    await readEvents(response);
  } catch (e) {
    if (e.name === "AbortError") return;  // cancel() has said so already
    showError(String(e.message || e));
    idle();
  }
}

// A request the server refused before any run started: the message where it belongs, the page ready again.
async function refused(response) {
  const body = await response.json().catch(() => ({ error: response.statusText }));
  let message = body.error || `refused (${response.status})`;
  if (response.status === 503 || response.status === 429) message += ` (retry after ${response.headers.get("Retry-After")} s)`;
  const field = /^right\b/.test(message) ? "right" : (/^image\b/.test(message) || response.status === 413 ? "image" : null);
  if (field) dropError(field, message); else showError(message);
  idle();
  if (response.status === 404 && conversation) newConversation();  // the session expired: the next question starts one
}

// Stop the run: the page closes its event stream, and the server cancels a run whose stream is closed.
function cancel() {
  if (!current || !current.controller) return;
  current.controller.abort();
  show($("approval-box"), false);
  text($("answer"), "Cancelled.", true);
  dropTurn(current.turn, "Cancelled.");
  progress("Cancelled", 0, 1);
  busy(false);
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
  progress("Running the approved edit ...");
  const response = await fetch(url, { method: "POST" });
  if (!response.ok) showError((await response.json()).error);
}

setupDrop("image");
setupDrop("right");
setupExamples();
$("ask-form").addEventListener("submit", ask);
$("cancel").addEventListener("click", cancel);
$("new-conversation").addEventListener("click", () => { newConversation(); $("query").focus(); });
loadConversation();
loadLLMs();
drawHistory();
