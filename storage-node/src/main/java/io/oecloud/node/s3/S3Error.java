package io.oecloud.node.s3;

/**
 * The S3 error codes the gateway answers with: the code string S3 clients switch on, the HTTP status
 * and a default message (the words S3 itself uses where it has any). Mapped to an answer once, at the
 * HTTP edge ({@link S3Xml#error}).
 */
public enum S3Error {
    AccessDenied(403, "Access Denied"),
    AuthorizationHeaderMalformed(400, "The authorization header is malformed."),
    AuthorizationQueryParametersError(400, "Error parsing the X-Amz-Credential parameter."),
    BadDigest(400, "The Content-MD5 you specified did not match what we received."),
    BucketAlreadyExists(409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system."),
    BucketAlreadyOwnedByYou(409, "Your previous request to create the named bucket succeeded and you already own it."),
    BucketNotEmpty(409, "The bucket you tried to delete is not empty."),
    EntityTooLarge(400, "Your proposed upload exceeds the maximum allowed size."),
    EntityTooSmall(400, "Your proposed upload is smaller than the minimum allowed object size."),
    /** S3's code for an expired session token; an expired presigned URL is {@link #AccessDenied} "Request has expired". */
    ExpiredToken(400, "The provided token has expired."),
    IncompleteBody(400, "You did not provide the number of bytes specified by the Content-Length HTTP header."),
    InternalError(500, "We encountered an internal error. Please try again."),
    InvalidAccessKeyId(403, "The AWS access key Id you provided does not exist in our records."),
    InvalidArgument(400, "Invalid Argument"),
    InvalidBucketName(400, "The specified bucket is not valid."),
    InvalidDigest(400, "The Content-MD5 you specified is not valid."),
    InvalidObjectState(403, "The operation is not valid for the object's state."),
    InvalidPart(400, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."),
    InvalidPartOrder(400, "The list of parts was not in ascending order. Parts must be ordered by part number."),
    InvalidRange(416, "The requested range is not satisfiable"),
    InvalidRequest(400, "Invalid Request"),
    KeyTooLongError(400, "Your key is too long."),
    MalformedXML(400, "The XML you provided was not well-formed or did not validate against our published schema."),
    MetadataTooLarge(400, "Your metadata headers exceed the maximum allowed metadata size."),
    MethodNotAllowed(405, "The specified method is not allowed against this resource."),
    MissingContentLength(411, "You must provide the Content-Length HTTP header."),
    NoSuchBucket(404, "The specified bucket does not exist."),
    NoSuchKey(404, "The specified key does not exist."),
    NoSuchUpload(404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."),
    NotImplemented(501, "A header you provided implies functionality that is not implemented."),
    NotModified(304, "Not Modified"),
    PreconditionFailed(412, "At least one of the preconditions you specified did not hold."),
    RequestTimeTooSkewed(403, "The difference between the request time and the server's time is too large."),
    RequestTimeout(400, "Your socket connection to the server was not read from or written to within the timeout period."),
    ServiceUnavailable(503, "Please reduce your request rate."),
    SignatureDoesNotMatch(403, "The request signature we calculated does not match the signature you provided. Check your key and signing method."),
    SlowDown(503, "Please reduce your request rate."),
    /** S3 has no code of its own for too many parts: it answers InvalidArgument, and so do we. */
    TooManyParts(400, "Part number must be an integer between 1 and 10000, inclusive.") {
        @Override
        public String code() {
            return "InvalidArgument";
        }
    },
    XAmzContentSHA256Mismatch(400, "The provided 'x-amz-content-sha256' header does not match what was computed.");

    private final int status;
    private final String defaultMessage;

    S3Error(int status, String defaultMessage) {
        this.status = status;
        this.defaultMessage = defaultMessage;
    }

    /** The {@code <Code>} string of the answer. */
    public String code() {
        return name();
    }

    /** The HTTP status of the answer. */
    public int status() {
        return status;
    }

    /** S3's usual words for this error, when nothing more precise is known. */
    public String defaultMessage() {
        return defaultMessage;
    }
}
