// The device name music-session.js registers (`node --test tests/js/`).
import test from "node:test";
import assert from "node:assert/strict";
import { deviceName } from "../../static/js/music-session.js";

test("a device is named after its browser and system", () => {
  const linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36";
  assert.equal(deviceName(linux), "Chrome on Linux");
  assert.equal(deviceName("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"), "Firefox on Windows");
  assert.equal(deviceName("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1"),
               "Safari on iOS");
  assert.equal(deviceName("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0"),
               "Edge on macOS");
  assert.equal(deviceName("curl/8"), "A browser");
});
