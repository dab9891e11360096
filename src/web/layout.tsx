/** @jsxImportSource hono/jsx */
// The frame of every web page: head (our stylesheet and script only), site navigation, footer.
import type { Child } from "hono/jsx";
import { assetUrl } from "./assets.ts";

export type Section = "explore" | "api" | "dashboard" | "none";

export function Layout(props: { title: string; section: Section; description?: string; children?: Child }) {
  const current = (s: Section) => (props.section === s ? "page" : undefined);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${props.title} · 402claw`}</title>
        {props.description ? <meta name="description" content={props.description} /> : null}
        <link rel="icon" href={assetUrl("favicon.svg")} type="image/svg+xml" />
        <link rel="stylesheet" href={assetUrl("style.css")} />
        <script src={assetUrl("app.js")} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="site">
          <nav aria-label="Main">
            <a class="brand" href="/explore">
              402claw
            </a>
            <a href="/explore" aria-current={current("explore")}>
              Explore
            </a>
            <a href="/dashboard" aria-current={current("dashboard")}>
              Dashboard
            </a>
            <a href="/openapi.json">API</a>
          </nav>
        </header>
        <main id="main">{props.children}</main>
        <footer>
          <p>
            Pay-per-call APIs for agents, paid with x402. Every number on these pages is also served as JSON:{" "}
            <a href="/v1/leaderboard">/v1/leaderboard</a>, <a href="/v1/stats">/v1/stats</a>,{" "}
            <a href="/v1/directories">/v1/directories</a>.
          </p>
        </footer>
      </body>
    </html>
  );
}
