/** @jsxImportSource hono/jsx */
// The HTML face of an ApiError on a web page: same status and stable code as the JSON envelope,
// the message escaped like any other text.
import type { IRequest } from "itty-router";
import { ApiError } from "../http/errors.ts";
import type { PlatformContext } from "../control/context.ts";
import { Layout } from "./layout.tsx";
import { page } from "./html.ts";

type Handler = (request: IRequest, pc: PlatformContext) => Promise<Response>;

export function ErrorPage(props: { status: number; code: string; message: string; requestId: string }) {
  return (
    <Layout title={props.status === 404 ? "Not found" : "Error"} section="none">
      <h1>{props.status === 404 ? "Not found" : "Something is wrong with this request"}</h1>
      <p class="alert" id="error-message">
        {props.message}
      </p>
      <p class="muted small">
        Code <code>{props.code}</code> · request <code>{props.requestId}</code>
      </p>
      <p>
        <a href="/explore">Back to Explore</a>
      </p>
    </Layout>
  );
}

/** Wraps a page handler: an ApiError becomes an HTML error page instead of the JSON envelope. */
export function webRoute(handler: Handler): Handler {
  return async (request, pc) => {
    try {
      return await handler(request, pc);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      return page(<ErrorPage status={err.status} code={err.code} message={err.message} requestId={pc.requestId} />, {
        status: err.status,
      });
    }
  };
}
