#!/usr/bin/env bash
# The real tools the test suite drives, from the distribution with apt-get (as root): a headless
# browser for the dashboard's tests (tests/dashboard/): Debian's Chromium and its chromedriver,
# and a colour emoji font (tweets are full of emoji); and Prometheus (with promtool), which
# scrapes `/metrics` in tests/monitor/. Selenium itself is a Python dev dependency. Nothing is downloaded from
# elsewhere: Selenium is always given these binaries, so its own driver manager never runs.
# Extra packages (e.g. fonts-noto-cjk for CJK hashtags in docs/dashboard.png): EXTRA_PACKAGES.
# Idempotent; quiet unless something fails.
set -euo pipefail
packages=()
command -v chromium >/dev/null || packages+=(chromium)
command -v chromedriver >/dev/null || packages+=(chromium-driver)
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || packages+=(fonts-noto-color-emoji)
command -v prometheus >/dev/null || packages+=(prometheus)
read -r -a extra <<< "${EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
if [ ${#packages[@]} -eq 0 ]; then
  echo "install_test_tools: $(chromium --version 2>/dev/null | head -1), chromedriver, prometheus there"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "install_test_tools: please install: ${packages[*]} (e.g. sudo apt-get install ${packages[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null
echo "install_test_tools: $(chromium --version 2>/dev/null | head -1), chromedriver $(chromedriver --version | cut -d' ' -f2), $(prometheus --version 2>&1 | head -1)"
