// The customer page: posts the top-up, then follows its events over the WebSocket, reconnecting from the
// last seq it saw. Plain browser JavaScript, no build step.
const form = document.querySelector('#top-up');
const timeline = document.querySelector('#timeline');
const errorLine = document.querySelector('#error');

const pounds = (pence) => `£${(pence / 100).toFixed(2)}`;

/** What each event says to the customer, and how it looks. */
function describe(event) {
  switch (event.type) {
    case 'accepted':
      return ['We have your request.', ''];
    case 'charged':
      return [
        `Payment taken${event.amountPence ? ` (${pounds(event.amountPence)})` : ''}; now updating your meter.`,
        '',
      ];
    case 'charge_declined':
      // The gateway never confirmed the charge either way: the money may have been taken, so no "declined".
      if (event.reason === 'charge_not_confirmed') {
        return [
          'We could not confirm your payment with your bank. Please do not pay again yet: our team has been told, and if money was taken it will be credited to your meter or refunded.',
          'bad',
        ];
      }
      return ['Your card was declined, so nothing was charged. Please try another card.', 'bad'];
    case 'vend_requested':
      return ['Sending the credit to your meter…', 'wait'];
    case 'vend_retrying':
      return [
        `The meter service is busy: trying again (attempt ${event.attempt} of ${event.maxAttempts}).`,
        'wait',
      ];
    case 'vended':
      return [
        `Done: ${event.creditPence ? pounds(event.creditPence) + ' ' : ''}credit is on its way to your meter. If it does not arrive, key in this code:`,
        '',
      ];
    case 'vend_failed':
      return [
        'We took your payment but could not credit your meter yet. Our team has been told and will put it right; use emergency credit if you need it.',
        'bad',
      ];
    default:
      return [event.type, ''];
  }
}

function show(event) {
  const [text, tone] = describe(event);
  const item = document.createElement('li');
  if (tone) item.className = tone;
  const time = new Date(event.at).toLocaleTimeString('en-GB');
  item.textContent = `${time} — ${text}`;
  if (event.type === 'vended' && event.utrn) {
    const code = document.createElement('div');
    code.className = 'utrn';
    code.textContent = event.utrn.replace(/(\d{4})(?=\d)/g, '$1 ');
    item.append(code);
  }
  timeline.append(item);
}

const FINAL = new Set(['charge_declined', 'vended', 'vend_failed']);

function follow(eventsUrl) {
  let lastSeq = 0;
  let finished = false;
  let delay = 500;
  const connect = () => {
    const url = new URL(eventsUrl, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('after', String(lastSeq));
    const socket = new WebSocket(url);
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.seq <= lastSeq) return;
      lastSeq = event.seq;
      delay = 500;
      show(event);
      if (FINAL.has(event.type)) {
        finished = true;
        socket.close();
      }
    };
    socket.onclose = () => {
      if (finished) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };
  connect();
}

form.addEventListener('submit', async (submitted) => {
  submitted.preventDefault();
  errorLine.textContent = '';
  const body = {
    meterId: form.meterId.value.trim(),
    amountPence: Math.round(Number(form.amount.value) * 100),
    paymentToken: form.card.value,
  };
  const response = await fetch('/api/payments', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (response.status !== 202) {
    errorLine.textContent = answer.message ?? 'Something went wrong; please try again.';
    return;
  }
  form.querySelector('button').disabled = true;
  document.querySelector('#timeline-title').hidden = false;
  timeline.replaceChildren();
  follow(answer.eventsUrl);
});
