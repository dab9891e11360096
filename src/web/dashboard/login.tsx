/** @jsxImportSource hono/jsx */
// The sign-in form: a POST (never GET: the key must not land in a URL or a log), with the
// double-submit CSRF token. The key field is never pre-filled, so the key never appears in HTML.
import { Layout } from "../layout.tsx";

export function LoginPage(props: { csrf: string; error?: string }) {
  return (
    <Layout title="Creator dashboard" section="dashboard">
      <h1>Creator dashboard</h1>
      <section class="panel login" aria-labelledby="login-h">
        <h2 id="login-h">Sign in with your API key</h2>
        <p class="small muted">
          Use a 402claw key with the <code>tenants:read</code> scope (<code>claw_sk_…</code>; <code>npm start</code>{" "}
          prints one, and keeps it in <code>.claw/dev.json</code>). It is exchanged for a one-hour session cookie and is
          never stored in your browser.
        </p>
        {props.error ? (
          <p class="alert" role="alert" id="login-error">
            {props.error}
          </p>
        ) : null}
        <form method="post" action="/dashboard/login">
          <input type="hidden" name="csrf" value={props.csrf} />
          <label for="key">API key</label>
          <input id="key" name="key" type="password" autocomplete="off" spellcheck={false} required maxlength={200} />
          <p>
            <button type="submit">Sign in</button>
          </p>
        </form>
      </section>
    </Layout>
  );
}
