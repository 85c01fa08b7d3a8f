// The dashboard's script: htmx for the live parts, the log viewer, the terminal, the charts.
import htmx from "htmx.org";
import "@xterm/xterm/css/xterm.css";
import "uplot/dist/uPlot.min.css";
import { startLogViewers } from "./logs.js";
import { startTerminals } from "./terminal.js";
import { startCharts } from "./charts.js";

window.htmx = htmx;

function autosubmit(root) {
  for (const form of root.querySelectorAll("form[data-autosubmit]")) {
    for (const select of form.querySelectorAll("select")) {
      select.addEventListener("change", () => {
        // A new project has other engines: drop the engine choice with it.
        if (select.name === "project") {
          const engine = form.querySelector("select[name=engine]");
          if (engine) engine.value = "";
        }
        form.requestSubmit();
      });
    }
  }
}

// "Copy" next to an object's path: the clipboard when the page may use it, else the text is
// selected in its field for Ctrl+C.
function copyButtons(root) {
  for (const button of root.querySelectorAll("button.copy")) {
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        button.textContent = "Copied";
      } catch (error) {
        button.previousElementSibling.select();
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  autosubmit(document);
  copyButtons(document);
  startLogViewers(document);
  startTerminals(document);
  startCharts(document);
});
