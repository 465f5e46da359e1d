# shellcheck shell=bash
# Debian packages kmemsim needs to build and test. Sourced by bootstrap and test.
KMS_DEB_PACKAGES=(meson ninja-build gcc pkg-config libcmocka-dev libjemalloc-dev uthash-dev
	libjansson-dev)

# Install whichever of the packages are missing (nothing to do on a second run).
kms_install_missing() {
	local missing=() pkg sudo=
	for pkg in "${KMS_DEB_PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "installing: ${missing[*]}" >&2
	$sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Configure BUILD_DIR once (or reconfigure a stale one), then build it.
kms_build() {
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null || meson setup --wipe "$dir" "$@"
	fi
	# Quiet when it works; the whole compiler output when it does not.
	if ! ninja -C "$dir" >"$dir/ninja.log" 2>&1; then
		cat "$dir/ninja.log" >&2
		return 1
	fi
}
