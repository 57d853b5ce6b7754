/*
 * enginebench measures OpenSSL's GOST engine on one core, for comparison
 * with podpis in the same run (make bench):
 *
 *   enginebench digest md_gost12_256 SECONDS      prints "MB/s X"
 *   enginebench sign gost2012_256 TCA SECONDS      prints "sign/s X verify/s Y"
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/engine.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
	fprintf(stderr, "enginebench: %s failed\n", what);
	exit(1);
}

int main(int argc, char **argv) {
	if (argc < 4) {
		fprintf(stderr, "usage: enginebench digest MD SECONDS | sign ALG PARAMSET SECONDS\n");
		return 2;
	}
	ENGINE_load_builtin_engines();
	ENGINE *e = ENGINE_by_id("gost");
	if (!e || !ENGINE_init(e))
		die("loading the gost engine");
	ENGINE_set_default(e, ENGINE_METHOD_ALL);

	if (strcmp(argv[1], "digest") == 0) {
		double secs = atof(argv[3]);
		const EVP_MD *md = ENGINE_get_digest(e, OBJ_txt2nid(argv[2]));
		if (!md)
			die("finding the digest");
		size_t size = 1 << 20;
		unsigned char *buf = calloc(1, size), out[64];
		unsigned int outlen;
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		long n = 0;
		double start = now(), t;
		do {
			if (!EVP_DigestInit_ex(ctx, md, e) || !EVP_DigestUpdate(ctx, buf, size) ||
			    !EVP_DigestFinal_ex(ctx, out, &outlen))
				die("digest");
			n++;
		} while ((t = now() - start) < secs);
		printf("MB/s %.1f\n", n * (double)size / t / 1e6);
		return 0;
	}
	if (strcmp(argv[1], "sign") == 0 && argc == 5) {
		double secs = atof(argv[4]);
		EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(OBJ_txt2nid(argv[2]), e);
		EVP_PKEY *key = NULL;
		if (!kctx || EVP_PKEY_keygen_init(kctx) <= 0 ||
		    EVP_PKEY_CTX_ctrl_str(kctx, "paramset", argv[3]) <= 0 || EVP_PKEY_keygen(kctx, &key) <= 0)
			die("key generation");
		size_t dlen = strcmp(argv[2], "gost2012_512") == 0 ? 64 : 32;
		unsigned char dgst[64], sig[128];
		for (size_t i = 0; i < dlen; i++)
			dgst[i] = (unsigned char)(i * 37 + 11);
		size_t siglen = sizeof sig;
		EVP_PKEY_CTX *sctx = EVP_PKEY_CTX_new(key, e);
		if (!sctx || EVP_PKEY_sign_init(sctx) <= 0)
			die("sign init");
		long n = 0;
		double start = now(), t;
		do {
			siglen = sizeof sig;
			if (EVP_PKEY_sign(sctx, sig, &siglen, dgst, dlen) <= 0)
				die("sign");
			n++;
		} while ((t = now() - start) < secs);
		double signs = n / t;
		EVP_PKEY_CTX *vctx = EVP_PKEY_CTX_new(key, e);
		if (!vctx || EVP_PKEY_verify_init(vctx) <= 0)
			die("verify init");
		n = 0;
		start = now();
		do {
			if (EVP_PKEY_verify(vctx, sig, siglen, dgst, dlen) != 1)
				die("verify");
			n++;
		} while ((t = now() - start) < secs);
		printf("sign/s %.1f verify/s %.1f\n", signs, n / t);
		return 0;
	}
	fprintf(stderr, "enginebench: unknown command %s\n", argv[1]);
	return 2;
}
