/* SigV4: the published AWS S3 example requests sign to their published
 * signatures, and the canonical request gets the edge cases right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HOST "examplebucket.s3.amazonaws.com"
#define DATE "20130524T000000Z"

static char *sign(const char *method, const char *path, const char *query, const struct sigv4_header *h, size_t n,
                  const char *payload, char **canonical)
{
        struct sigv4_request rq = {
                .method = method,
                .path = path,
                .query = query,
                .headers = h,
                .n_headers = n,
                .payload_sha256 = payload,
                .region = "us-east-1",
                .service = "s3",
                .access_key = AKID,
                .secret_key = SECRET,
                .amz_date = DATE,
        };
        char *auth = NULL;
        assert_int_equal(sigv4_sign(&rq, &auth, canonical), 0);
        return auth;
}

static void expect_signature(char *auth, const char *signed_headers, const char *sig)
{
        char *want = NULL;
        assert_true(asprintf(&want,
                             "AWS4-HMAC-SHA256 Credential=" AKID "/20130524/us-east-1/s3/aws4_request, "
                             "SignedHeaders=%s, Signature=%s",
                             signed_headers, sig) > 0);
        assert_string_equal(auth, want);
        free(want);
        free(auth);
}

/* AWS S3 API reference, "Signature Calculations for the Authorization
 * Header", the four example requests. */
static void test_aws_example_get_object(void **state)
{
        const struct sigv4_header h[] = { { "Host", HOST },
                                          { "Range", "bytes=0-9" },
                                          { "x-amz-content-sha256", EMPTY_SHA },
                                          { "x-amz-date", DATE } };
        expect_signature(sign("GET", "/test.txt", NULL, h, 4, EMPTY_SHA, NULL),
                         "host;range;x-amz-content-sha256;x-amz-date",
                         "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void test_aws_example_put_object(void **state)
{
        const char *payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
        const struct sigv4_header h[] = { { "x-amz-storage-class", "REDUCED_REDUNDANCY" },
                                          { "Host", HOST },
                                          { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
                                          { "x-amz-date", DATE },
                                          { "x-amz-content-sha256", payload } };
        char *canonical = NULL;
        expect_signature(sign("PUT", "/test$file.text", NULL, h, 5, payload, &canonical),
                         "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                         "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
        assert_non_null(strstr(canonical, "PUT\n/test%24file.text\n\n"));
        free(canonical);
}

static void test_aws_example_get_bucket_lifecycle(void **state)
{
        const struct sigv4_header h[] = { { "Host", HOST },
                                          { "x-amz-date", DATE },
                                          { "x-amz-content-sha256", EMPTY_SHA } };
        char *canonical = NULL;
        expect_signature(sign("GET", "/", "lifecycle", h, 3, EMPTY_SHA, &canonical),
                         "host;x-amz-content-sha256;x-amz-date",
                         "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
        /* a valueless parameter is "name=" (libcurl 7.88 gets this wrong) */
        assert_non_null(strstr(canonical, "GET\n/\nlifecycle=\n"));
        free(canonical);
}

static void test_aws_example_list_objects(void **state)
{
        const struct sigv4_header h[] = { { "Host", HOST },
                                          { "x-amz-date", DATE },
                                          { "x-amz-content-sha256", EMPTY_SHA } };
        /* given out of order: the canonical query is sorted */
        expect_signature(sign("GET", "/", "prefix=J&max-keys=2", h, 3, EMPTY_SHA, NULL),
                         "host;x-amz-content-sha256;x-amz-date",
                         "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

static char *canonical_of(const char *path, const char *query, const struct sigv4_header *h, size_t n)
{
        char *canonical = NULL;
        free(sign("PUT", path, query, h, n, "UNSIGNED-PAYLOAD", &canonical));
        return canonical;
}

static void test_query_order_and_encoding(void **state)
{
        const struct sigv4_header h[] = { { "host", "h" } };
        char *a = canonical_of("/b/k", "versionId=a b&uploads&partNumber=2", h, 1);
        char *b = canonical_of("/b/k", "partNumber=2&uploads&versionId=a b", h, 1);
        assert_string_equal(a, b);
        assert_non_null(strstr(a, "\npartNumber=2&uploads=&versionId=a%20b\n"));
        free(a);
        free(b);
        /* the same name twice: sorted by value */
        a = canonical_of("/b", "x=2&x=1", h, 1);
        assert_non_null(strstr(a, "\nx=1&x=2\n"));
        free(a);
}

static void test_path_encoding(void **state)
{
        const struct sigv4_header h[] = { { "host", "h" } };
        /* each byte outside the unreserved set, UTF-8 included, once; '/' kept */
        char *c = canonical_of("/bucket/2026/CAM 1/\xe6\x89\xa7\xe6\xb3\x95 ~2+=.mp4", NULL, h, 1);
        assert_non_null(strstr(c, "PUT\n/bucket/2026/CAM%201/%E6%89%A7%E6%B3%95%20~2%2B%3D.mp4\n"));
        free(c);
        char *e = sigv4_uri_encode("a/b c", 0);
        assert_string_equal(e, "a%2Fb%20c");
        free(e);
}

static void test_header_order_and_values(void **state)
{
        /* any case and order in, sorted lower-case names out; values trimmed,
         * inner runs of blanks one space; same-prefix names in byte order */
        const struct sigv4_header h[] = { { "X-Amz-Meta-SHA256", "  abc  " },
                                          { "x-amz-meta-sha", "a   b" },
                                          { "HOST", "h" },
                                          { "x-amz-date", DATE } };
        char *auth = NULL, *canonical = NULL;
        auth = sign("PUT", "/b/k", NULL, h, 4, "UNSIGNED-PAYLOAD", &canonical);
        assert_non_null(strstr(canonical, "\nhost:h\nx-amz-date:" DATE "\nx-amz-meta-sha:a b\nx-amz-meta-sha256:abc\n\n"
                                          "host;x-amz-date;x-amz-meta-sha;x-amz-meta-sha256\nUNSIGNED-PAYLOAD"));
        free(canonical);
        free(auth);
}

/* AWS S3 API reference, "Transferring Payload in Multiple Chunks": the
 * example PUT of 65 KiB of 'a' in 64 KiB chunks, its seed signature, each
 * chunk's and the body's length on the wire. */
static void test_aws_example_chunked_upload(void **state)
{
        const struct sigv4_header h[] = { { "Host", "s3.amazonaws.com" },
                                          { "x-amz-date", DATE },
                                          { "x-amz-storage-class", "REDUCED_REDUNDANCY" },
                                          { "x-amz-content-sha256", SIGV4_STREAMING },
                                          { "Content-Encoding", "aws-chunked" },
                                          { "x-amz-decoded-content-length", "66560" },
                                          { "Content-Length", "66824" } };
        struct sigv4_request rq = { .method = "PUT",
                                    .path = "/examplebucket/chunkObject.txt",
                                    .headers = h,
                                    .n_headers = 7,
                                    .payload_sha256 = SIGV4_STREAMING,
                                    .region = "us-east-1",
                                    .service = "s3",
                                    .access_key = AKID,
                                    .secret_key = SECRET,
                                    .amz_date = DATE };
        char *auth = NULL;
        assert_int_equal(sigv4_sign(&rq, &auth, NULL), 0);
        assert_non_null(strstr(auth, "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"));
        struct sigv4_chunks c;
        assert_int_equal(sigv4_chunks_begin(&c, &rq, auth), 0);
        free(auth);
        char *data = malloc(65536);
        memset(data, 'a', 65536);
        char sig[65];
        sigv4_chunk_sign(&c, data, 65536, sig);
        assert_string_equal(sig, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
        sigv4_chunk_sign(&c, data, 1024, sig);
        assert_string_equal(sig, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
        sigv4_chunk_sign(&c, data, 0, sig);
        assert_string_equal(sig, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
        sigv4_chunks_end(&c);
        free(data);
        assert_int_equal(sigv4_chunked_length(66560, 65536), 66824);
        assert_int_equal(sigv4_chunked_length(0, 65536), 86);                         /* the empty chunk alone */
        assert_int_equal(sigv4_chunked_length(65536, 65536), 65536 + 90 + 86);        /* no short chunk */
        assert_int_equal(sigv4_chunked_length(15, 65536), 15 + 1 + 17 + 64 + 4 + 86); /* "f;chunk-signature=" */
        assert_int_equal(sigv4_chunked_length(16, 65536), 16 + 2 + 17 + 64 + 4 + 86);
}

static void test_amz_date(void **state)
{
        char d[17];
        sigv4_amz_date(1369353600, d);
        assert_string_equal(d, DATE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_aws_example_get_object),
                cmocka_unit_test(test_aws_example_put_object),
                cmocka_unit_test(test_aws_example_get_bucket_lifecycle),
                cmocka_unit_test(test_aws_example_list_objects),
                cmocka_unit_test(test_query_order_and_encoding),
                cmocka_unit_test(test_path_encoding),
                cmocka_unit_test(test_header_order_and_values),
                cmocka_unit_test(test_aws_example_chunked_upload),
                cmocka_unit_test(test_amz_date),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
