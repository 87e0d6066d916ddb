#!/bin/bash
# Signed envelopes: our code against python3-cryptography in both directions (envelope-interop.py).
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
tool="$BUILD_DIR/tests/integration/noports-envelope-tool"
[ -x "$tool" ] || { echo "noports-envelope-tool not built"; exit 77; }
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || { echo "python3-cryptography missing (tools/install-deps)"; exit 77; }
exec /usr/bin/python3 "$SOURCE_DIR/tests/integration/envelope-interop.py" "$tool"
