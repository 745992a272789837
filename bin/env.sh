# Sourced by bin/oe, bin/test and benchmarks/run.sh: finds JDK 25 and sets JAVA, JAVA_HOME, OE_ROOT.
# JAVA_HOME wins when it is 25 or newer; otherwise the newest /usr/lib/jvm/temurin-2[5-9]*.

OE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OE_ROOT

oe_java_major() { # prints the feature version of the java binary $1, or 0
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1
}

oe_find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(oe_java_major "$JAVA_HOME/bin/java")" -ge 25 ] 2>/dev/null; then
    return 0
  fi
  local candidate
  for candidate in $(ls -d /usr/lib/jvm/temurin-2[5-9]* /usr/lib/jvm/temurin-[3-9][0-9]* 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/bin/java" ]; then
      JAVA_HOME=$candidate
      return 0
    fi
  done
  echo "OE Cloud needs JDK 25 or newer: set JAVA_HOME to one (found ${JAVA_HOME:-none})" >&2
  return 1
}

oe_find_jdk || exit 1
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
# Debian's Maven 3.8.7 warns about sun.misc.Unsafe on every start under JDK 25.
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
# Flags every OE Cloud JVM needs: the Vector API (codec, BLAKE3) and native access (ISA-L, RocksDB).
OE_JVM_FLAGS=(--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
