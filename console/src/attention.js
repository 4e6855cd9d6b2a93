// Getting the agent's attention: a short generated tone (WebAudio, no sound file), desktop
// notifications (asked for once, on a user gesture, as browsers require), unread counts in
// the tab title.
import { store } from "./state.js";
import { visitorLabel } from "./text.js";

const ASKED_KEY = "parley.console.notificationsAsked";
const SOUND_KEY = "parley.console.sound";
const TITLE = "Parley — Agent console";
const TONE_GAP_MS = 1500; // a burst of events makes one sound

let audio = null;
let lastTone = 0;

export const soundOn = () => localStorage.getItem(SOUND_KEY) !== "off";
export function setSound(on) {
  localStorage.setItem(SOUND_KEY, on ? "on" : "off");
}

/** Called once the agent is signed in: the first click or key press unlocks audio and asks. */
export function armOnGesture() {
  const arm = () => {
    removeEventListener("pointerdown", arm, true);
    removeEventListener("keydown", arm, true);
    unlockAudio();
    askPermission();
  };
  addEventListener("pointerdown", arm, true);
  addEventListener("keydown", arm, true);
}

function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    audio = audio || new Ctx();
    if (audio.state === "suspended") audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

/** Ask for notification permission once per browser (a refusal is remembered by the browser). */
export function askPermission() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  if (localStorage.getItem(ASKED_KEY)) return;
  localStorage.setItem(ASKED_KEY, "1");
  try {
    const p = Notification.requestPermission();
    if (p && p.catch) p.catch(() => {});
  } catch {
    /* old Safari: callback form only; not worth a fallback */
  }
}

/** Two soft notes, 0.25 s in all. */
export function tone() {
  if (!soundOn() || Date.now() - lastTone < TONE_GAP_MS) return;
  unlockAudio();
  if (!audio || audio.state !== "running") return;
  lastTone = Date.now();
  const t0 = audio.currentTime;
  [880, 1175].forEach((freq, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    const start = t0 + i * 0.12;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.18, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.13);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + 0.14);
  });
}

/** The page is not what the agent looks at. */
export const away = () => document.hidden || !document.hasFocus();

function desktop(title, body, tag, onClick) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const n = new Notification(title, { body: String(body || "").slice(0, 180), tag, renotify: true });
    n.onclick = () => {
      window.focus();
      if (onClick) onClick();
      n.close();
    };
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}

/** A chat is new for this agent: waiting in the queue, or assigned to them by the router. */
export function newChat(conv, assigned, open) {
  tone();
  const who = visitorLabel(conv);
  desktop(assigned ? "New chat assigned: " + who : "New chat waiting: " + who, conv.preview || "", "parley-" + conv.conversationId, open);
}

/** A visitor wrote in a chat the agent is not looking at. */
export function newMessage(chat, m, open) {
  const looking = chat.id === store.openId && !away();
  if (looking) return false;
  tone();
  desktop(visitorLabel(chat.conv), m.text, "parley-" + chat.id, open);
  return true;
}

/** "(3) Parley — Agent console": waiting chats plus unread messages. */
export function updateTitle() {
  let unread = 0;
  for (const c of store.chats.values()) unread += c.unread;
  const n = store.queue.size + unread;
  document.title = (n ? "(" + n + ") " : "") + TITLE;
}
export const resetTitle = () => (document.title = TITLE);

/** The topbar's sound switch. */
export function initSoundToggle() {
  const btn = document.getElementById("sound");
  const show = () => {
    btn.textContent = soundOn() ? "Sound on" : "Sound off";
    btn.setAttribute("aria-pressed", String(soundOn()));
  };
  btn.addEventListener("click", () => {
    setSound(!soundOn());
    show();
    if (soundOn()) tone();
  });
  show();
}
