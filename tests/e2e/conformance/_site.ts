/**
 * The pages the conformance cases drive: two loopback origins (A on `127.0.0.1`, B on
 * `localhost`, so a frame from B in a page of A is cross-site and gets its own process).
 *
 * @module
 */

/** The two origins and a way to stop them. */
export interface Site {
  /** `http://127.0.0.1:<port>` */
  readonly a: string;
  /** `http://localhost:<port>`: another site, for out-of-process iframes. */
  readonly b: string;
  close(): Promise<void>;
}

/** The body of the file `/file.txt` serves for downloads. */
export const DOWNLOAD_BODY = "conformance download body\n";

function html(title: string, body: string, headers: Record<string, string> = {}): Response {
  return new Response(
    `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`,
    { headers: { "content-type": "text/html; charset=utf-8", ...headers } },
  );
}

/** Records events into `window.log` so an outcome can be read back with one evaluation. */
const LOG =
  `<script>window.log = []; function note(...parts) { log.push(parts.join(" ")); }</script>`;

function route(request: Request, other: string): Response {
  const url = new URL(request.url);
  const q = url.searchParams;
  const title = q.get("title") ?? "Page";
  switch (url.pathname) {
    case "/frames":
      return html(
        "Frames",
        `<iframe id="same" src="/?title=Same"></iframe><iframe id="cross" src="${other}/?title=Cross"></iframe>`,
      );
    case "/worker":
      return html(
        "Worker",
        `<script>window.worker = new Worker("/worker.js"); window.answer = new Promise((r) => { worker.onmessage = (e) => r(e.data); }); worker.postMessage(20);</script>`,
      );
    case "/worker.js":
      return new Response(`self.onmessage = (e) => postMessage(e.data + 22);`, {
        headers: { "content-type": "text/javascript" },
      });
    case "/sw":
      return html(
        "Service worker",
        `<script>window.registered = navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready).then(() => "ready");</script>`,
      );
    case "/sw.js":
      return new Response(
        `self.addEventListener("install", () => self.skipWaiting()); self.addEventListener("activate", (e) => e.waitUntil(clients.claim()));`,
        { headers: { "content-type": "text/javascript" } },
      );
    case "/input":
      return html(
        "Input",
        `${LOG}<input id="text" style="position:absolute;left:10px;top:10px;width:200px;height:30px">
        <div id="pad" style="position:absolute;left:10px;top:100px;width:200px;height:200px;background:#ccc"></div>
        <script>
          const text = document.getElementById("text"), pad = document.getElementById("pad");
          text.addEventListener("keydown", (e) => note("keydown", e.key));
          text.addEventListener("input", () => note("input", text.value));
          pad.addEventListener("click", (e) => note("click", e.clientX, e.clientY, e.button));
          pad.addEventListener("dblclick", () => note("dblclick"));
          pad.addEventListener("touchstart", (e) => note("touchstart", e.touches.length));
          pad.addEventListener("touchend", () => note("touchend"));
        </script>`,
      );
    case "/popup":
      return html(
        "Opener",
        `<a id="blank" href="/?title=Blank" target="_blank">blank</a>
        <a id="noopener" href="/?title=NoOpener" target="_blank" rel="noopener">noopener</a>`,
      );
    case "/beforeunload":
      return html(
        "Leave",
        `<h1 id="h">Leave</h1><script>window.addEventListener("beforeunload", (e) => { e.preventDefault(); e.returnValue = ""; });</script>`,
      );
    case "/download":
      return html(
        "Download",
        `<a id="link" href="/file.txt" download="report.txt">download</a>`,
      );
    case "/file.txt":
      return new Response(DOWNLOAD_BODY, {
        headers: {
          "content-type": "text/plain",
          "content-disposition": 'attachment; filename="report.txt"',
        },
      });
    case "/upload":
      return html(
        "Upload",
        `${LOG}<input id="file" type="file" multiple>
        <script>
          const input = document.getElementById("file");
          for (const type of ["input", "change"]) input.addEventListener(type, () => note(type, [...input.files].map((f) => f.name + ":" + f.size).join(",")));
        </script>`,
      );
    case "/api":
      return Response.json({ from: "server", path: url.pathname });
    case "/headers":
      return Response.json({ marker: request.headers.get("x-conformance") });
    default:
      return html(title, `<h1 id="h">${title}</h1>`);
  }
}

/** Starts both origins. */
export function startSite(): Site {
  let a = "";
  let b = "";
  const serverA = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => route(request, b),
  );
  const serverB = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => route(request, a),
  );
  a = `http://127.0.0.1:${serverA.addr.port}`;
  b = `http://localhost:${serverB.addr.port}`;
  return {
    a,
    b,
    async close() {
      await Promise.all([serverA.shutdown(), serverB.shutdown()]);
    },
  };
}
