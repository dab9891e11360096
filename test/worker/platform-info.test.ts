// GET /v1/platform: the payment defaults the CLI fills in when a deploy names no network/asset.
import { describe, expect, it } from "vitest";
import { call } from "./helpers.ts";
import { platformDefaults } from "../../src/platform/info.ts";
import { KNOWN_ASSETS } from "../../src/config/assets.ts";

describe("GET /v1/platform", () => {
  it("is public and names the default network and its asset", async () => {
    const res = await call("/v1/platform");
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toEqual({
      service: "402claw",
      network: "eip155:84532",
      asset: KNOWN_ASSETS["eip155:84532"],
    });
  });
});

describe("platformDefaults", () => {
  const local = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", name: "USDC", version: "2", decimals: 6 };
  it("takes PLATFORM_NETWORK and PLATFORM_ASSET from the environment", () => {
    expect(platformDefaults({ PLATFORM_NETWORK: "eip155:31337", PLATFORM_ASSET: JSON.stringify(local) })).toEqual({
      network: "eip155:31337",
      asset: local,
    });
    expect(platformDefaults({ PLATFORM_NETWORK: "eip155:8453" })).toEqual({
      network: "eip155:8453",
      asset: KNOWN_ASSETS["eip155:8453"],
    });
    expect(platformDefaults({ PLATFORM_NETWORK: "eip155:999" })).toEqual({ network: "eip155:999", asset: null });
  });
  it("refuses malformed settings with a stable code", () => {
    for (const vars of [
      { PLATFORM_NETWORK: "base" },
      { PLATFORM_ASSET: "{" },
      { PLATFORM_ASSET: '{"address":"0x1"}' },
    ]) {
      expect(() => platformDefaults(vars)).toThrow(expect.objectContaining({ code: "platform_misconfigured" }));
    }
  });
});
