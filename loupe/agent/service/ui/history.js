// The page's history: each run of this browser session with its own photos, question, mode, program and
// answer, kept in sessionStorage (photos as small thumbnails) and shown again on a click. Uses app.js's
// functions (setPhoto, fileFrom, resetRun, showResult); both scripts are loaded by index.html.
"use strict";

const photosOf = new Map();  // run id -> the files it was asked about (while this page lives)

// A small JPEG data URL of a photo, kept with its run in the history (sessionStorage holds a few MB).
async function thumbnailOf(file, side = 320) {
  if (!file) return null;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale); canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", 0.8);
  } catch (e) { return null; }
}

// ---- history --------------------------------------------------------------------------------------

function history() { return JSON.parse(sessionStorage.getItem("loupe-history") || "[]"); }

async function remember(run) {
  if (!run.id || !run.result) return;
  photosOf.set(run.id, run.files);
  const [image, right] = run.thumbnails ? await run.thumbnails : [null, null];
  const items = history().filter((h) => h.id !== run.id);
  items.unshift({ id: run.id, query: run.query, mode: run.mode, status: run.result.status, result: run.result,
                  source: $("program-source").textContent, photos: { image, right } });
  for (let keep = 30; keep > 0; keep -= 5) {  // fewer items when the session's storage is full
    try { sessionStorage.setItem("loupe-history", JSON.stringify(items.slice(0, keep))); break; } catch (e) { /* full */ }
  }
  drawHistory(run.id);
}

function drawHistory(active = null) {
  const list = $("history");
  list.innerHTML = "";
  for (const item of history()) {
    const li = document.createElement("li");
    li.classList.toggle("active", item.id === active);
    if (item.photos && item.photos.image) {
      const img = document.createElement("img");
      img.src = item.photos.image; img.alt = ""; img.className = "history-thumb";
      li.append(img);
    }
    const answer = item.result.answer_type === "image" ? (item.result.said || "(edited image)") : item.result.answer;
    const label = document.createElement("span");
    label.textContent = `${item.query} → ${item.status === "ok" || item.status === "partial" ? answer : item.status}`;
    li.append(label);
    li.onclick = () => restore(item);
    list.append(li);
  }
}

// Show an earlier run as it was: its photos (picked again, so a new question is about them), question,
// mode, program, steps and answer.
async function restore(item) {
  const kept = photosOf.get(item.id) || {};
  const photos = item.photos || {};
  for (const name of ["image", "right"]) {
    const file = kept[name] || (photos[name] ? await fileFrom(photos[name], `${name}.jpg`) : null);
    setPhoto(name, file);
  }
  $("query").value = item.query;
  if (item.mode) $("mode").value = item.mode;
  current = { id: item.id, query: item.query, mode: item.mode, photos: { image: previews.image, right: previews.right } };
  resetRun(item.query);
  showResult(item.result, false);
  $("program-source").textContent = item.source || "";
  drawHistory(item.id);
}

