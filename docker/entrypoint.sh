#!/bin/sh
# The meshwork command inside the image: the jars are prebuilt, so no build step and no JDK selection.
# MESHWORK_JAVA_OPTS holds several options: it is split into words on purpose.
# shellcheck disable=SC2086
exec java --enable-native-access=ALL-UNNAMED ${MESHWORK_JAVA_OPTS:-} \
    -Dconfig.file="${MESHWORK_CONFIG:-/etc/meshwork/application.conf}" \
    -cp "/opt/meshwork/lib/*" io.meshwork.cli.Meshwork "$@"
