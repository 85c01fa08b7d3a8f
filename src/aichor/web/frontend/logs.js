// The log viewer: loads the whole log page by page, then follows the tail by polling `after`;
// ANSI colours rendered by ansi_up; search hides the lines without the text; the source
// select filters by replica or step; Download fetches the whole log as text.
import { AnsiUp } from "ansi_up";

const PAGE = 2000;
const POLL_MS = 1000;

export function startLogViewers(root) {
  for (const element of root.querySelectorAll(".logview")) {
    if (element.dataset.lazy === undefined) {
      new LogViewer(element);
      continue;
    }
    // A step's log inside <details>: loaded the first time it is opened.
    const details = element.closest("details");
    const start = () => {
      if (details.open && !element.viewer) element.viewer = new LogViewer(element);
    };
    details.addEventListener("toggle", start);
    start(); // a failed step's log is open from the start
  }
}

class LogViewer {
  constructor(element) {
    this.element = element;
    this.output = element.querySelector(".logtext");
    // A step's log has no controls: a fixed source, always following.
    this.source = element.querySelector("select[name=source]") || { value: element.dataset.source };
    this.search = element.querySelector("input[type=search]") || { value: "" };
    this.follow = element.querySelector(".log-follow") || { checked: true };
    this.count = element.querySelector(".log-count") || {};
    this.download = element.querySelector(".log-download");
    this.ansi = new AnsiUp();
    this.ansi.use_classes = true;
    if (this.source.addEventListener) this.source.addEventListener("change", () => this.restart());
    if (this.search.addEventListener) this.search.addEventListener("input", () => this.applySearch());
    this.output.addEventListener("scroll", () => {
      const atEnd = this.output.scrollTop + this.output.clientHeight >= this.output.scrollHeight - 4;
      this.follow.checked = atEnd;
    });
    this.restart();
  }

  restart() {
    this.generation = (this.generation || 0) + 1;
    this.after = 0;
    this.lines = 0;
    this.output.replaceChildren();
    const source = this.source.value;
    if (this.download) {
      const url = new URL(this.download.href, window.location.href);
      if (source) url.searchParams.set("source", source); else url.searchParams.delete("source");
      this.download.href = url.pathname + url.search;
      const pageUrl = new URL(window.location.href);
      if (source) pageUrl.searchParams.set("source", source); else pageUrl.searchParams.delete("source");
      window.history.replaceState(null, "", pageUrl);
    }
    this.load(this.generation);
  }

  async load(generation) {
    while (generation === this.generation) {
      const url = new URL(this.element.dataset.lines, window.location.href);
      url.searchParams.set("after", this.after);
      url.searchParams.set("limit", PAGE);
      if (this.source.value) url.searchParams.set("source", this.source.value);
      let page;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(response.statusText);
        page = await response.json();
      } catch (error) {
        await sleep(POLL_MS * 3);
        continue;
      }
      if (generation !== this.generation) return;
      this.append(page.lines);
      this.after = page.next;
      if (page.lines.length >= PAGE) continue;
      if (page.finished) return;
      await sleep(POLL_MS);
    }
  }

  append(lines) {
    if (!lines.length) {
      this.updateCount();
      return;
    }
    const fragment = document.createDocumentFragment();
    const needle = this.search.value.toLowerCase();
    for (const line of lines) {
      const row = document.createElement("div");
      row.className = "line";
      row.dataset.source = line.source;
      const stamp = document.createElement("span");
      stamp.className = "ts";
      stamp.textContent = line.timestamp.slice(11, 23);
      stamp.title = line.timestamp;
      const source = document.createElement("span");
      source.className = "src";
      source.textContent = line.source;
      const text = document.createElement("span");
      text.className = "text";
      text.innerHTML = this.ansi.ansi_to_html(line.text);
      row.append(stamp, " ", source, " ", text);
      row.hidden = Boolean(needle) && !line.text.toLowerCase().includes(needle);
      fragment.append(row);
    }
    this.output.append(fragment);
    this.lines += lines.length;
    this.updateCount();
    if (this.follow.checked) this.output.scrollTop = this.output.scrollHeight;
  }

  applySearch() {
    const needle = this.search.value.toLowerCase();
    for (const row of this.output.children) {
      row.hidden = Boolean(needle) && !row.textContent.toLowerCase().includes(needle);
    }
    this.updateCount();
  }

  updateCount() {
    const needle = this.search.value;
    if (!needle) {
      this.count.textContent = this.lines ? `${this.lines} lines` : "no lines yet";
      return;
    }
    const shown = [...this.output.children].filter((row) => !row.hidden).length;
    this.count.textContent = `${shown} of ${this.lines} lines match`;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
