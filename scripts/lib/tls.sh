# shellcheck shell=bash disable=SC2034
# scripts/lib/tls.sh - the self-signed certificate for https://localhost,
# made once in $VAR_DIR/tls/ and kept.  Sourced.
#
# An ECDSA P-256 key (0600) and a certificate for CN=localhost with the SANs
# DNS:localhost, IP:127.0.0.1 and IP:::1.  Clients can trust exactly this
# certificate with `curl --cacert $VAR_DIR/tls/cert.pem`.  lighttpd reads
# both as root before it drops privileges, so the directory stays 0700.

tls_paths() {
	TLS_DIR=$VAR_DIR/tls
	TLS_CERT=$TLS_DIR/cert.pem
	TLS_KEY=$TLS_DIR/key.pem
}

tls_ensure() {
	tls_paths
	mkdir -p "$TLS_DIR"
	chmod 0700 "$TLS_DIR"
	if [ -s "$TLS_CERT" ] && [ -s "$TLS_KEY" ]; then
		return 0
	fi
	info "tls: making a self-signed certificate for localhost in $TLS_DIR"
	(
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -sha256 -days 825 \
			-keyout "$TLS_KEY.tmp" -out "$TLS_CERT.tmp" \
			-subj "/CN=localhost" \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
			-addext "extendedKeyUsage=serverAuth" \
			-addext "keyUsage=critical,digitalSignature,keyCertSign" \
			2>"$TLS_DIR/openssl.err"
	) || {
		cat "$TLS_DIR/openssl.err" >&2
		die "tls: openssl req failed"
	}
	rm -f "$TLS_DIR/openssl.err"
	chmod 0600 "$TLS_KEY.tmp"
	chmod 0644 "$TLS_CERT.tmp"
	mv -f "$TLS_KEY.tmp" "$TLS_KEY"
	mv -f "$TLS_CERT.tmp" "$TLS_CERT"
}
