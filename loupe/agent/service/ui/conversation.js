// The page's conversation: the first question starts a session on the server (its photos, every edit, what
// the last program found, the last question); the page keeps the session's id and sends it with each
// follow-up, which is then about the session's current image ("blur them", "undo", "and cats?"). Each turn is
// drawn with its request, what the planners read, the answer (or the question Loupe asks back) and the image
// the conversation is on after it. Picking other photos, or "New conversation", starts over. Kept in
// sessionStorage so a reload shows it again. Uses app.js's helpers ($, show, text, outcome).
"use strict";

let conversation = null;   // {id, now: {url, label, key}} once the first turn has answered
let conversationEpoch = 0; // changes when the conversation starts over: a turn answering late is not drawn

// A turn being asked: drawn at once (request, "working ..."), filled in by settleTurn.
function startTurn(query) {
  const li = document.createElement("li");
  li.className = "turn pending"; li.dataset.testid = "turn";
  li.innerHTML = `<div class="turn-images"></div><div class="turn-text"><div class="you"><b>You:</b>
    <span class="said"></span> <span class="read"></span></div><div class="reply" data-testid="turn-answer"></div></div>`;
  li.querySelector(".said").textContent = query;
  li.querySelector(".reply").textContent = "working ...";
  $("conversation").append(li);
  drawConversationState();
  return { li, epoch: conversationEpoch };
}

// The turn's answer, and the image(s) the session is on after it (a statement about both photos: both).
async function settleTurn(turn, result) {
  if (!turn || turn.epoch !== conversationEpoch) return;
  const li = turn.li;
  li.classList.remove("pending");
  li.dataset.status = result.status;
  li.dataset.turn = result.turn || "";
  const plain = (words) => words.toLowerCase().replace(/[\s?.!]+$/, "").trim();
  if (result.resolved_query && plain(result.resolved_query) !== plain(li.querySelector(".said").textContent))
    li.querySelector(".read").textContent = `(read as “${result.resolved_query}”)`;
  const reply = li.querySelector(".reply");
  reply.textContent = replyOf(result);
  if (result.status === "partial") {  // the answer, and in smaller print why it is only partial
    const note = document.createElement("small");
    note.className = "note"; note.textContent = ` (partial: ${result.reason})`;
    reply.append(note);
  }
  if (!result.session) return saveConversation();
  const state = await fetch(`/v1/sessions/${result.session}`).then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (!state || turn.epoch !== conversationEpoch) return;
  const now = state.images.find((i) => i.current);
  conversation = { id: result.session, now: { url: now.url, label: now.label, key: now.key } };
  const both = (result.references || []).some((r) => r.kind === "both");
  const shown = both ? state.images.filter((i) => i.origin === "given").slice(0, 2) : [now];
  const box = li.querySelector(".turn-images");
  box.innerHTML = "";
  for (const entry of shown) {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = entry.url; img.alt = entry.label; img.dataset.key = entry.key; img.dataset.testid = "turn-image";
    img.classList.toggle("made", !!result.image_key && entry.key === result.image_key);
    const caption = document.createElement("figcaption");
    caption.textContent = entry.label;
    figure.append(img, caption);
    box.append(figure);
  }
  drawConversationState();
  saveConversation();
}

// What the turn said, in a line: the answer, or why there is none (the question back, when Loupe asks one).
function replyOf(result) {
  if (result.status !== "ok" && result.status !== "partial") return outcome(result);
  let said = result.said !== undefined ? result.said : (result.answer_type === "image" ? "" : String(result.answer));
  if (result.answer_type === "video") said = "edited the video";
  if (!said && result.answer_type === "image") said = "edited the photo";
  return said;
}

// A turn that never reached the server (refused) goes; one cancelled stays, marked.
function dropTurn(turn, reason = null) {
  if (!turn || turn.epoch !== conversationEpoch) return;
  if (reason === null) turn.li.remove();
  else { turn.li.classList.remove("pending"); turn.li.dataset.status = "cancelled"; turn.li.querySelector(".reply").textContent = reason; }
  drawConversationState();
  saveConversation();
}

// Start over: the next question starts a new session on the photos picked (the old session is deleted).
function newConversation() {
  if (conversation) fetch(`/v1/sessions/${conversation.id}`, { method: "DELETE" }).catch(() => {});
  conversation = null;
  conversationEpoch += 1;
  $("conversation").innerHTML = "";
  sessionStorage.removeItem("loupe-conversation");
  drawConversationState();
}

function drawConversationState() {
  const turns = $("conversation").children.length;
  show($("new-conversation"), turns > 0);
  $("query").placeholder = conversation ? "Follow-up: blur them · undo · and cats?" : "How many horses? · Blur every face";
  $("conversation-state").textContent = conversation
    ? `(follow-ups are about ${conversation.now.label}; other photos start a new one)`
    : (turns ? "" : "(your first question starts one)");
}

function saveConversation() {
  if (!conversation) return;
  try {
    sessionStorage.setItem("loupe-conversation", JSON.stringify({ ...conversation, html: $("conversation").innerHTML }));
  } catch (e) { /* storage full: the conversation goes on, it is just not kept over a reload */ }
}

// After a reload: the stored conversation again, while the server still keeps its session.
async function loadConversation() {
  const kept = JSON.parse(sessionStorage.getItem("loupe-conversation") || "null");
  if (!kept) return drawConversationState();
  const alive = await fetch(`/v1/sessions/${kept.id}`).then((r) => r.ok).catch(() => false);
  if (!alive) { sessionStorage.removeItem("loupe-conversation"); return drawConversationState(); }
  conversation = { id: kept.id, now: kept.now };
  $("conversation").innerHTML = kept.html;
  drawConversationState();
}
