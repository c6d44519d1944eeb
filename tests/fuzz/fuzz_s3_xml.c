/* libFuzzer target: the S3 store's XML readers (error documents, UploadId, ListObjectsV2 pages,
 * timestamps) must stay within their input and buffers on any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objstore/objstore_s3_xml.h"

static int count_entry(void *arg, const s3_xml_object *o)
{
    (*(size_t *)arg) += strlen(o->key) + o->size % 7;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *doc = malloc(size + 1);   /* NUL-terminated for the time parser only */
    if (!doc)
        return 0;
    memcpy(doc, data, size);
    doc[size] = '\0';
    char code[64], msg[256], id[128], token[512], err[256], root[32], text[100];
    size_t n = 0;
    int truncated;
    int64_t t;
    s3_xml_error(doc, size, code, sizeof code, msg, sizeof msg);
    s3_xml_upload_id(doc, size, id, sizeof id);
    s3_xml_list_page(doc, size, count_entry, &n, &truncated, token, sizeof token, err, sizeof err);
    s3_xml_span span = {doc, size};
    s3_xml_root(span, root, sizeof root);
    s3_xml_text(span, "Key", text, sizeof text);
    s3_xml_decode(span, text, sizeof text);
    s3_xml_time_parse(doc, &t);
    free(doc);
    return 0;
}
