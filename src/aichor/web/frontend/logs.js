// The log viewer (decision 134): opens at the tail of the log, follows it over the API's
// Server-Sent Events stream (an EventSource, which reconnects by itself with Last-Event-ID),
// and keeps at most WINDOW line elements in the page however long the log is. Scrolling to
// the top loads the lines before the first one shown (the lines at the bottom are dropped,
// and loaded again when the reader scrolls back down); positions are the log's byte offsets.
// ANSI colours by ansi_up; search filters the loaded lines; the source select filters by
// replica or step; Download has the whole log.
import { AnsiUp } from "ansi_up";

const PAGE = 1000; // lines per request when scrolling back or forth
const WINDOW = 3000; // line elements kept in the page at most
const EDGE_PX = 200; // this close to the top or bottom loads the next page
const RETRY_MS = 3000;
const encoder = new TextEncoder();

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
    if (this.follow.addEventListener) {
      this.follow.addEventListener("change", () => {
        if (!this.follow.checked) return;
        if (this.attached) this.scrollToEnd();
        else this.restart(); // back to the tail
      });
    }
    this.output.addEventListener("scroll", () => this.onScroll());
    this.restart();
  }

  // The window is the rows in `output`; each row's `offset` is where its line starts in the
  // log (undefined inside a chunk whose byte sizes could not be checked); `top` and `bottom`
  // are the offsets of the window's first line and of the end of its last. `live` is how far
  // the stream has reached; the window is attached to the tail when bottom === live.
  restart() {
    this.generation = (this.generation || 0) + 1;
    if (this.stream) this.stream.close();
    this.stream = null;
    this.output.replaceChildren();
    this.top = this.bottom = this.live = 0;
    this.ended = false;
    this.busy = false;
    this.purged = null;
    this.syncLinks();
    this.open(this.generation);
  }

  get attached() {
    return this.bottom === this.live;
  }

  syncLinks() {
    if (!this.download) return;
    const source = this.source.value;
    const url = new URL(this.download.href, window.location.href);
    if (source) url.searchParams.set("source", source); else url.searchParams.delete("source");
    this.download.href = url.pathname + url.search;
    const pageUrl = new URL(window.location.href);
    if (source) pageUrl.searchParams.set("source", source); else pageUrl.searchParams.delete("source");
    window.history.replaceState(null, "", pageUrl);
  }

  async open(generation) {
    const tail = await this.fetchWindow({});
    if (generation !== this.generation) return;
    if (tail === null) {
      setTimeout(() => generation === this.generation && this.open(generation), RETRY_MS);
      return;
    }
    this.top = this.bottom = this.live = tail.start;
    this.ended = tail.ended;
    this.purged = tail.purged_at;
    this.insert(tail.lines, tail.start, tail.next, "end");
    this.live = tail.next;
    this.scrollToEnd();
    if (!this.ended && this.element.dataset.stream) this.connect(generation);
    this.updateCount();
  }

  connect(generation) {
    const url = new URL(this.element.dataset.stream, window.location.href);
    url.searchParams.set("after", this.live);
    if (this.source.value) url.searchParams.set("source", this.source.value);
    const stream = new EventSource(url);
    this.stream = stream;
    stream.addEventListener("lines", (event) => {
      if (generation !== this.generation) return;
      const body = JSON.parse(event.data);
      const start = this.live;
      this.live = body.next;
      if (this.bottom === start) {
        if (this.follow.checked) {
          this.insert(body.lines, start, body.next, "end");
          this.scrollToEnd();
        } else if (this.output.childElementCount + body.lines.length <= WINDOW) {
          const anchor = this.output.lastElementChild;
          this.keepInView(anchor, () => this.insert(body.lines, start, body.next, "end"));
        }
        // Else the reader is reading back in a full window: it is left as it is (detached);
        // the new lines load when they scroll down.
      }
      this.updateCount();
    });
    stream.addEventListener("end", () => {
      stream.close();
      if (generation !== this.generation) return;
      this.ended = true;
      this.updateCount();
    });
    // Network errors: EventSource retries by itself with Last-Event-ID. A refused request
    // (signed out, server restarted into an error) closes it: open a new one later.
    stream.addEventListener("error", () => {
      if (stream.readyState !== EventSource.CLOSED || generation !== this.generation) return;
      setTimeout(() => generation === this.generation && !this.ended && this.connect(generation), RETRY_MS);
    });
  }

  async fetchWindow(params) {
    const url = new URL(this.element.dataset.lines, window.location.href);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    url.searchParams.set("limit", PAGE);
    if (this.source.value) url.searchParams.set("source", this.source.value);
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(response.statusText);
      return await response.json();
    } catch (error) {
      return null;
    }
  }

  onScroll() {
    const output = this.output;
    const atEnd = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
    this.follow.checked = atEnd && this.attached;
    if (this.busy) return;
    if (output.scrollTop < EDGE_PX && this.top > 0) this.loadEarlier();
    else if (output.scrollTop + output.clientHeight > output.scrollHeight - EDGE_PX && !this.attached) {
      this.loadLater();
    }
  }

  async loadEarlier() {
    const generation = this.generation;
    this.busy = true;
    const page = await this.fetchWindow({ before: this.top });
    this.busy = false;
    if (page === null || generation !== this.generation || page.next !== this.top) return;
    this.keepInView(this.output.firstElementChild, () => this.insert(page.lines, page.start, page.next, "start"));
    this.updateCount();
  }

  async loadLater() {
    const generation = this.generation;
    this.busy = true;
    const page = await this.fetchWindow({ after: this.bottom });
    this.busy = false;
    if (page === null || generation !== this.generation || page.start !== this.bottom) return;
    this.keepInView(this.output.lastElementChild, () => this.insert(page.lines, page.start, page.next, "end"));
    this.updateCount();
  }

  // Rows added at one end and dropped at the other move the rest: keep `anchor` (a row the
  // reader is looking at, which stays) where it was on screen.
  keepInView(anchor, change) {
    const output = this.output;
    const shown = anchor ? anchor.offsetTop - output.scrollTop : 0;
    change();
    if (anchor && anchor.isConnected) output.scrollTop = anchor.offsetTop - shown;
  }

  // Rows for `lines` (bytes `start` to `next` of the log) at one end of the window, then the
  // other end trimmed back to WINDOW rows.
  insert(lines, start, next, where) {
    if (!lines.length) return;
    const offsets = lineOffsets(lines, start, next);
    const fragment = document.createDocumentFragment();
    const needle = this.search.value.toLowerCase();
    lines.forEach((line, index) => {
      const row = this.row(line);
      row.offset = offsets[index];
      row.hidden = Boolean(needle) && !line[2].toLowerCase().includes(needle);
      fragment.append(row);
    });
    if (where === "end") {
      this.output.append(fragment);
      this.bottom = next;
      this.trimStart();
    } else {
      this.output.prepend(fragment);
      this.top = start;
      this.trimEnd();
    }
  }

  // Drop rows at the top while the window holds more than WINDOW, and until the first row
  // left has a known offset (the window's edge must be a place in the log to read from).
  trimStart() {
    const output = this.output;
    let excess = output.childElementCount - WINDOW;
    if (excess <= 0) return;
    let row = output.firstElementChild;
    while (row && (excess > 0 || row.offset === undefined)) {
      const next = row.nextElementSibling;
      row.remove();
      row = next;
      excess -= 1;
    }
    this.top = row ? row.offset : this.bottom;
  }

  // The same at the bottom: the new end of the window is where the first row dropped starts.
  trimEnd() {
    const output = this.output;
    const excess = output.childElementCount - WINDOW;
    if (excess <= 0) return;
    let removed = 0;
    let cut;
    let row = output.lastElementChild;
    while (row && (removed < excess || cut === undefined)) {
      const previous = row.previousElementSibling;
      cut = row.offset;
      row.remove();
      row = previous;
      removed += 1;
    }
    this.bottom = cut === undefined ? this.top : cut;
  }

  row(line) {
    const [timestamp, source, text] = line;
    const row = document.createElement("div");
    row.className = "line";
    row.dataset.source = source;
    const stamp = document.createElement("span");
    stamp.className = "ts";
    stamp.textContent = timestamp.slice(11, 23);
    stamp.title = timestamp;
    const origin = document.createElement("span");
    origin.className = "src";
    origin.textContent = source;
    const body = document.createElement("span");
    body.className = "text";
    body.innerHTML = this.ansi.ansi_to_html(text);
    row.append(stamp, " ", origin, " ", body);
    return row;
  }

  scrollToEnd() {
    this.output.scrollTop = this.output.scrollHeight;
  }

  applySearch() {
    const needle = this.search.value.toLowerCase();
    for (const row of this.output.children) {
      row.hidden = Boolean(needle) && !row.lastElementChild.textContent.toLowerCase().includes(needle);
    }
    this.updateCount();
  }

  updateCount() {
    const shown = this.output.childElementCount;
    let text;
    if (this.purged) text = `the logs were purged on ${this.purged.slice(0, 10)}`;
    else if (!shown) text = this.ended ? "no lines" : "no lines yet";
    else if (this.search.value) {
      const matching = [...this.output.children].filter((row) => !row.hidden).length;
      text = `${matching} of ${shown} loaded lines match`;
    } else text = `${shown} lines loaded`;
    if (shown && this.top > 0) text += " · scroll up for earlier lines";
    if (shown && !this.attached) text += " · newer lines below";
    this.count.textContent = text;
    this.output.dataset.top = this.top;
    this.output.dataset.bottom = this.bottom;
  }
}

// Where each line starts: the lines are the log's records (`<stamp>\t<source>\t<text>\n`)
// from `start` to `next`; when their UTF-8 sizes add up to that span, each line's offset is
// known, else (a record not in that form) only the first one's.
function lineOffsets(lines, start, next) {
  const offsets = new Array(lines.length);
  let position = start;
  for (let index = 0; index < lines.length; index++) {
    offsets[index] = position;
    const [timestamp, source, text] = lines[index];
    position += encoder.encode(timestamp).length + encoder.encode(source).length
      + encoder.encode(text).length + 3;
  }
  if (position !== next) offsets.fill(undefined, 1);
  return offsets;
}
