// The terminal tab: xterm.js on a websocket to a shell in the chosen running replica.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";

export function startTerminals(root) {
  for (const form of root.querySelectorAll("form.terminal-open")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      open(form, document.getElementById("terminal"));
    });
  }
}

let current = null;

function open(form, container) {
  if (current) current.close();
  container.replaceChildren();
  const replica = form.querySelector("select[name=replica]").value;
  const terminal = new Terminal({ cursorBlink: true, fontSize: 13, convertEol: false });
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  terminal.open(container);
  fit.fit();
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const path = `/experiments/${form.dataset.experiment}/terminal/${encodeURIComponent(replica)}`;
  const socket = new WebSocket(`${scheme}://${window.location.host}${path}`);
  socket.binaryType = "arraybuffer";
  const send = (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));
  socket.onopen = () => {
    send({ resize: [terminal.cols, terminal.rows] });
    terminal.focus();
  };
  socket.onmessage = (event) => terminal.write(new Uint8Array(event.data));
  socket.onclose = () => terminal.write("\r\n[terminal closed]\r\n");
  terminal.onData((data) => send({ input: data }));
  terminal.onResize(({ cols, rows }) => send({ resize: [cols, rows] }));
  window.addEventListener("resize", () => fit.fit());
  current = socket;
}
