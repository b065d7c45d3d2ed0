/** Why a request to the CRM (MsgUtilService) failed: a code, and whether the CRM as a whole is away. */

export enum CrmErrorCode {
  /** No answer: connection refused or reset, DNS, timeout. */
  Unreachable = 'CRM_UNREACHABLE',
  /** The CRM answered with an HTTP error status. */
  HttpStatus = 'CRM_HTTP_STATUS',
  /** The CRM answered a redirect; redirects are never followed (the address is the admin's choice). */
  Redirect = 'CRM_REDIRECT',
  /** A 2xx answer that is not a GUID: the CRM's error text. */
  NotAGuid = 'CRM_NOT_A_GUID',
  /** No allowed address to call (crm.serviceUrl / security.allowedServiceUrls). */
  NoAddress = 'CRM_NO_ADDRESS',
}

/** A failed request to the CRM; `message` holds no secret (URLs are shown without credentials). */
export class CrmError extends Error {
  override name = 'CrmError';
  constructor(
    readonly code: CrmErrorCode,
    message: string,
    /**
     * true: the CRM as a whole is away or broken (every save to it waits); false: this request's
     * answer (its call waits alone).
     */
    readonly wholeCrm: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}
