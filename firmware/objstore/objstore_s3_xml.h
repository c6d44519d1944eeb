/* objstore_s3_xml: the few pieces of S3's XML responses the S3 store reads (Error,
 * InitiateMultipartUploadResult, CompleteMultipartUploadResult, ListBucketResult), with a tiny
 * bounded extractor: no XML library, no recursion, every read checked against the length, element
 * text entity-decoded into caller buffers of fixed size. Not a general XML parser: it finds
 * elements by name, which is enough for S3's flat, namespace-default documents. */
#ifndef SLUICE_OBJSTORE_OBJSTORE_S3_XML_H
#define SLUICE_OBJSTORE_OBJSTORE_S3_XML_H

#include <stddef.h>
#include <stdint.h>

/* A piece of a document: the bytes between an element's start and end tags. */
typedef struct s3_xml_span {
    const char *p;
    size_t len;
} s3_xml_span;

/* The next element called name inside in, starting at *pos: its content into *inner and *pos
 * moved past its end tag. A self-closing <name/> has empty content. 1 found, 0 none. */
int s3_xml_next(s3_xml_span in, const char *name, size_t *pos, s3_xml_span *inner);

/* The name of the document's root element into out ("" when there is none). 0, or -1 when it
 * does not fit. */
int s3_xml_root(s3_xml_span doc, char *out, size_t outlen);

/* The entity-decoded text of the first element called name inside in, into out (outlen bytes,
 * NUL-terminated). 1 found, 0 absent, -1 when it does not fit or holds a bad entity or markup. */
int s3_xml_text(s3_xml_span in, const char *name, char *out, size_t outlen);

/* Decode XML entities (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) of in into out. Length of the
 * result, or -1 when out (outlen bytes with the NUL) is too small or an entity is bad. */
long s3_xml_decode(s3_xml_span in, char *out, size_t outlen);

/* An <Error> document: code and message (either may come back ""). 1 when doc is an S3 error
 * document, 0 when it is not. */
int s3_xml_error(const char *doc, size_t len, char *code, size_t codelen, char *message, size_t messagelen);

/* The UploadId of an InitiateMultipartUploadResult. 0, or -1. */
int s3_xml_upload_id(const char *doc, size_t len, char *out, size_t outlen);

/* One <Contents> entry of a ListBucketResult. */
typedef struct s3_xml_object {
    char key[1100];          /* decoded; S3 keys are at most 1024 bytes */
    uint64_t size;
    int64_t mtime_unix;      /* LastModified, 0 when absent */
    char etag[80];           /* quotes removed */
} s3_xml_object;

typedef int (*s3_xml_object_fn)(void *arg, const s3_xml_object *o);

/* A ListObjectsV2 page: fn for each <Contents> in document order (a non-zero return stops and is
 * returned), *truncated from <IsTruncated>, the <NextContinuationToken> into token ("" when
 * absent). 0, a callback's non-zero value, or -1 (bad document) with the reason in err. */
int s3_xml_list_page(const char *doc, size_t len, s3_xml_object_fn fn, void *arg, int *truncated, char *token,
                     size_t tokenlen, char *err, size_t errlen);

/* "2009-10-12T17:50:30.000Z" (or without fraction) to Unix seconds. 0, or -1. */
int s3_xml_time_parse(const char *s, int64_t *out);

#endif
