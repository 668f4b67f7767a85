#!/usr/bin/env bash
# Installs what RcmPitr needs beyond the .NET SDK: PostgreSQL server and client binaries (the tests and
# the local environment start real clusters), the Bicep CLI (the infrastructure tests), Azurite (the Azure Storage
# tests) and Chromium with its driver (the web page's browser test). Idempotent; does nothing when they are present.
set -euo pipefail

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET SDK 10 is required (dotnet not found on PATH)." >&2
  exit 1
fi

# The Bicep CLI, from its NuGet package (the only registry it is served from here), into the checkout's git-ignored
# .tools/bicep: the infrastructure tests build and lint every template with it.
install_bicep() {
  local version=0.49.2 repo target work packages
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  target="$repo/.tools/bicep/bicep"
  if [ -x "$target" ] && "$target" --version 2>/dev/null | grep -q "version $version "; then
    return 0
  fi
  echo "Installing the Bicep CLI $version (NuGet package Azure.Bicep.CommandLine.linux-x64)..." >&2
  # A throwaway project outside the checkout, so the repository's build settings do not apply to it.
  work="$(mktemp -d)"
  cat > "$work/bicep.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="[$version]" />
  </ItemGroup>
</Project>
PROJECT
  dotnet restore "$work/bicep.csproj" -nologo -verbosity:quiet >&2
  rm -rf "$work"
  packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')"
  mkdir -p "$(dirname "$target")"
  cp "${packages%/}/azure.bicep.commandline.linux-x64/$version/tools/bicep" "$target.partial"
  chmod 0755 "$target.partial"
  mv -f "$target.partial" "$target"
}
install_bicep

# Azurite (the Azure Storage emulator, an npm package) for the durability tests of the Azure Storage backend, kept in
# the checkout (.tools/azurite, git-ignored). 3.35.0 is the newest release that runs on Node.js 20 (3.36 needs 21).
# Without Node.js the tests that need it are skipped locally and fail when CI=true.
azurite_version="3.35.0"
azurite_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/azurite"
if grep -qs "\"version\": \"$azurite_version\"" "$azurite_dir/node_modules/azurite/package.json"; then
  :
elif ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Node.js/npm not found: Azurite not installed; the Azure Storage durability tests will be skipped (and fail when CI=true)." >&2
else
  echo "Installing Azurite $azurite_version into .tools/azurite..." >&2
  mkdir -p "$azurite_dir"
  npm install --prefix "$azurite_dir" --no-audit --no-fund --loglevel=error "azurite@$azurite_version" >/dev/null \
    || echo "npm could not install Azurite; the Azure Storage durability tests will be skipped (and fail when CI=true)." >&2
fi

# apt-get update at most once per run, and only when something is installed.
apt_updated=false
apt_update_once() {
  if [ "$apt_updated" = false ]; then
    apt-get update -qq
    apt_updated=true
  fi
}

# Chromium and its driver (Debian packages chromium and chromium-driver) for the web page's browser test
# (tests/RcmPitr.Browser.Tests, headless). Without them that test is skipped locally and fails when CI=true.
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  :
elif [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Chromium not found (/usr/bin/chromium, /usr/bin/chromedriver): install the Debian packages chromium and chromium-driver as root; the browser test will be skipped (and fail when CI=true)." >&2
else
  echo "Installing Chromium and its driver from Debian packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt_update_once
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then
  exit 0
fi

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/pg_dump" >/dev/null; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin. Install them (Debian: apt-get install postgresql) or set PG_BIN." >&2
  exit 1
fi

echo "Installing PostgreSQL (server and client tools) from Debian packages..." >&2
export DEBIAN_FRONTEND=noninteractive
apt_update_once
apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
# Debian's package starts a default cluster; RcmPitr starts its own, so stop that one.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  for cluster in /etc/postgresql/*/main; do
    [ -d "$cluster" ] || continue
    version=$(basename "$(dirname "$cluster")")
    pg_ctlcluster "$version" main stop >/dev/null 2>&1 || true
  done
fi
