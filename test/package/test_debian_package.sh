#!/usr/bin/env bash
# The Debian package (issue 19 item 5): builds postgresql-15-dwu-crm from a copy of the tracked
# files with dpkg-buildpackage (debian/rules: pg_buildext, the pgxs_loop sequence), installs it,
# checks that the library, control file and SQL scripts PostgreSQL loads are the package's and that
# their versions agree (control file, debian/changelog, META.json, library_version()), runs the
# self-contained part of the regression suite against the installed package, then removes it and
# puts the tree's own build back (`make install`), as the other tests expect.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
source "$DWU_ROOT/scripts/regress_servers.sh"
source "$DWU_ROOT/test/e2e/common.sh"
trap 'dwu_cleanup; restore_tree_build' EXIT
dwu_init_workdir

PACKAGE=postgresql-15-dwu-crm
REGRESS_PART="schema trigger change_capture bad_input audit outbound"
restore_tree_build() {
    if dpkg -s "$PACKAGE" >/dev/null 2>&1; then dpkg -r "$PACKAGE" >/dev/null || true; fi
    make -C "$DWU_ROOT" -s install PG_CONFIG="$PG_CONFIG" >/dev/null || true
}

version=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$DWU_ROOT/dwu_crm.control")
check "debian/changelog is the control file's version" \
    [ "$(dpkg-parsechangelog -l "$DWU_ROOT/debian/changelog" -S Version)" = "$version-1" ]
check "META.json is the control file's version" \
    [ "$(jq -r '.version + " " + .provides.dwu_crm.version' "$DWU_ROOT/META.json")" = "$version $version" ]
check "META.json names the install script of that version" \
    [ -f "$DWU_ROOT/$(jq -r .provides.dwu_crm.file "$DWU_ROOT/META.json")" ]

src=$DWU_WORKDIR/dwu-crm-$version
mkdir -p "$src"
git -C "$DWU_ROOT" ls-files -z | (cd "$DWU_ROOT" && tar --null -T - -cf -) | tar -xf - -C "$src"
dwu_log "building the Debian package"
started=$SECONDS
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" dpkg-buildpackage -us -uc -b >"$DWU_WORKDIR/dpkg-buildpackage.log" 2>&1) || {
    tail -n 40 "$DWU_WORKDIR/dpkg-buildpackage.log"
    dwu_die "dpkg-buildpackage failed"
}
echo "# built in $((SECONDS - started)) s"
deb=$(ls "$DWU_WORKDIR"/${PACKAGE}_"$version"-1_*.deb)
check "the package holds the library, control file and install script" \
    bash -c "dpkg-deb -c '$deb' > '$DWU_WORKDIR/contents' &&
             grep 'lib/postgresql/15/lib/dwu_crm.so\$' '$DWU_WORKDIR/contents' &&
             grep 'share/postgresql/15/extension/dwu_crm.control\$' '$DWU_WORKDIR/contents' &&
             grep 'share/postgresql/15/extension/dwu_crm--$version.sql\$' '$DWU_WORKDIR/contents'" >/dev/null
check "it depends on the libraries it links" \
    bash -c "dpkg-deb -f '$deb' Depends | grep -q libcurl && dpkg-deb -f '$deb' Depends | grep -q libhiredis"

dpkg -i "$deb" >/dev/null
check "PostgreSQL loads the package's library" \
    [ "$(dpkg -S "$("$PG_CONFIG" --pkglibdir)/dwu_crm.so" | cut -d: -f1)" = "$PACKAGE" ]
check "the installed files are the package's, unchanged" dpkg -V "$PACKAGE"

dwu_regress_start
check "the package's library is the version of its SQL" \
    [ "$(psql -X -At -d postgres -c "CREATE EXTENSION IF NOT EXISTS dwu_crm CASCADE" \
            -c "SELECT dwu_crm.library_version() || ' ' || extversion FROM pg_extension WHERE extname = 'dwu_crm'" \
            | tail -n 1)" = "$version $version" ]
psql -X -q -d postgres -c "DROP EXTENSION dwu_crm" >/dev/null 2>&1 || true
dwu_log "pg_regress against the installed package: $REGRESS_PART"
if make -C "$DWU_ROOT" -s installcheck PG_CONFIG="$PG_CONFIG" REGRESS="$REGRESS_PART" >"$DWU_WORKDIR/installcheck.log" 2>&1; then
    check "the regression suite passes against the installed package" true
else
    cat "$DWU_WORKDIR/installcheck.log"
    [ -f "$DWU_ROOT/regression.diffs" ] && head -n 60 "$DWU_ROOT/regression.diffs"
    check "the regression suite passes against the installed package" false
fi
echo "# package build and checks: $((SECONDS - started)) s"
E2E_LOG=$(dwu_pg_log regress)
e2e_finish debian_package
