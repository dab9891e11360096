import { describe, expect, it } from "vitest";
import { parsePlatformHosts, resolveTarget } from "../../src/tenancy/resolve.ts";

const hosts = parsePlatformHosts(" localhost, API.402claw.dev ,");

describe("resolveTarget", () => {
  it("routes platform paths on platform hosts", () => {
    expect(resolveTarget(new URL("https://api.402claw.dev/v1/tenants"), hosts)).toEqual({
      kind: "platform",
      path: "/v1/tenants",
    });
    expect(resolveTarget(new URL("http://localhost:8787/health"), hosts)).toEqual({
      kind: "platform",
      path: "/health",
    });
  });
  it("strips /t/:slug and keeps the rest of the path", () => {
    expect(resolveTarget(new URL("http://localhost/t/weather/v1/records?q=x"), hosts)).toEqual({
      kind: "tenant-path",
      slug: "weather",
      path: "/v1/records",
    });
    expect(resolveTarget(new URL("http://localhost/t/weather"), hosts)).toEqual({
      kind: "tenant-path",
      slug: "weather",
      path: "/",
    });
    expect(resolveTarget(new URL("http://localhost/t/weather/"), hosts)).toEqual({
      kind: "tenant-path",
      slug: "weather",
      path: "/",
    });
  });
  it("gives every path of a custom host to its tenant, platform-looking ones too", () => {
    expect(resolveTarget(new URL("https://data.example.com/v1/tenants"), hosts)).toEqual({
      kind: "tenant-host",
      host: "data.example.com",
      path: "/v1/tenants",
    });
    expect(resolveTarget(new URL("https://Data.Example.com/t/x/y"), hosts)).toEqual({
      kind: "tenant-host",
      host: "data.example.com",
      path: "/t/x/y",
    });
  });
  it("keeps malformed escapes raw so validation can refuse them", () => {
    expect(resolveTarget(new URL("http://localhost/t/%E0%A4%A/x"), hosts)).toMatchObject({
      kind: "tenant-path",
      slug: "%E0%A4%A",
    });
  });
});
