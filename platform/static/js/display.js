// The waiting-room display: asks the clinic for today's calls every two seconds, shows the newest one
// large and the ones before it, and says each new call aloud in Indonesian where the browser can
// (Web Speech API; browsers let a page speak only after a tap, hence the button).
'use strict';

(function () {
  const root = document.getElementById('display');
  const words = root.dataset;
  const seen = new Set();
  let first = true;
  let voice = false;

  const ONES = ['', 'satu', 'dua', 'tiga', 'empat', 'lima', 'enam', 'tujuh', 'delapan', 'sembilan', 'sepuluh', 'sebelas'];

  /** A number in Indonesian words ("dua belas", "seratus lima"), so any voice says it right. */
  function terbilang(n) {
    if (n < 12) return ONES[n];
    if (n < 20) return `${ONES[n - 10]} belas`;
    if (n < 100) return `${ONES[Math.floor(n / 10)]} puluh ${ONES[n % 10]}`.trim();
    if (n < 200) return `seratus ${terbilang(n - 100)}`.trim();
    if (n < 1000) return `${ONES[Math.floor(n / 100)]} ratus ${terbilang(n % 100)}`.trim();
    if (n < 2000) return `seribu ${terbilang(n - 1000)}`.trim();
    return String(n);
  }

  function say(call) {
    if (!voice || !('speechSynthesis' in window)) return;
    const to = call.practitioner ? `, ${words.wordTo} ${call.practitioner}` : '';
    const text = `${words.wordNumber} ${terbilang(call.number)}${call.first_name ? `, ${call.first_name}` : ''}${to}`;
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = 'id-ID';
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }

  function who(call) {
    return [call.first_name, call.practitioner].filter(Boolean).join(' · ');
  }

  function show(calls) {
    const [now, ...earlier] = calls;
    document.getElementById('now-number').textContent = now ? String(now.number) : '–';
    document.getElementById('now-who').textContent = now ? who(now) : '';
    const list = document.getElementById('earlier');
    list.replaceChildren(
      ...earlier.map((call) => {
        const item = document.createElement('li');
        item.textContent = String(call.number);
        const small = document.createElement('small');
        small.textContent = who(call);
        item.append(small);
        return item;
      }),
    );
    // Calls never heard before, oldest first; the first answer only sets what has been heard.
    const fresh = calls.filter((call) => !seen.has(call.key)).reverse();
    fresh.forEach((call) => seen.add(call.key));
    if (!first && fresh.length) {
      const box = document.getElementById('now');
      box.classList.remove('fresh');
      void box.offsetWidth; // restart the animation
      box.classList.add('fresh');
      fresh.forEach(say);
    }
    first = false;
    root.dataset.shownKey = now ? now.key : '';
  }

  async function ask() {
    const status = document.getElementById('status');
    try {
      const response = await fetch(words.callsUrl, { cache: 'no-store', credentials: 'omit' });
      if (response.status === 404) {
        status.textContent = words.wordRevoked;
        show([]);
        return; // a revoked link stops asking
      }
      if (!response.ok) throw new Error(String(response.status));
      show((await response.json()).calls);
      status.textContent = '';
    } catch {
      status.textContent = words.wordOffline;
    }
    setTimeout(ask, 2000);
  }

  function tick() {
    const now = new Date();
    document.getElementById('clock').textContent = now.toLocaleTimeString('id-ID', { hour: '2-digit', minute: '2-digit' });
  }

  const button = document.getElementById('sound');
  if (!('speechSynthesis' in window)) button.hidden = true;
  button.addEventListener('click', () => {
    voice = true;
    button.hidden = true;
    window.speechSynthesis.speak(Object.assign(new SpeechSynthesisUtterance(''), { lang: 'id-ID' }));
  });
  tick();
  setInterval(tick, 15000);
  ask();
})();
