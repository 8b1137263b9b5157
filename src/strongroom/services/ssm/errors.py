"""SSM error constructors with AWS's codes (all HTTP 400, JSON protocol).

Messages follow the wording AWS returns where it is known; none of them ever
contains a parameter value.
"""

from __future__ import annotations

from strongroom.errors import ServiceError

NAME_RULES = (
    'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). '
    "If formed as a path, it can consist of sub-paths divided by slash symbol; each "
    "sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_"
)

PATH_RULES = (
    "The parameter doesn't meet the parameter name requirements. The parameter name "
    'must begin with a forward slash "/". It can\'t be prefixed with "aws" or "ssm" '
    "(case-insensitive). It must use only letters, numbers, or the following symbols: "
    ". (period), - (hyphen), _ (underscore). Special characters are not allowed. All "
    'sub-paths, if specified, must use the forward slash symbol "/". Valid example: '
    "/get/parameters2-/by1./path0_."
)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def invalid_name() -> ServiceError:
    return validation(NAME_RULES)


def invalid_path() -> ServiceError:
    return validation(PATH_RULES)


def not_found(name: str) -> ServiceError:
    return ServiceError("ParameterNotFound", f"Parameter {name} not found.")


def version_not_found(message: str) -> ServiceError:
    return ServiceError("ParameterVersionNotFound", message)


def already_exists() -> ServiceError:
    return ServiceError(
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option "
        "in the request to true.",
    )


def hierarchy_level(name: str) -> ServiceError:
    return ServiceError(
        "HierarchyLevelLimitExceededException",
        f"Parameter name {name} has too many levels: a hierarchy can have a maximum of 15 levels.",
    )


def type_mismatch(old: str, new: str) -> ServiceError:
    return ServiceError(
        "HierarchyTypeMismatchException",
        f"The parameter type can't be changed from {old} to {new}. Parameter Store doesn't "
        "support changing a parameter type in a hierarchy: create a new, unique parameter.",
    )


def invalid_allowed_pattern(detail: str) -> ServiceError:
    return ServiceError(
        "InvalidAllowedPatternException",
        f"The allowed pattern isn't a valid regular expression: {detail}",
    )


def pattern_mismatch(pattern: str) -> ServiceError:
    return ServiceError(
        "ParameterPatternMismatchException",
        f"Parameter value, cannot be validated against allowedPattern: {pattern}",
    )


def max_versions(name: str, oldest: int) -> ServiceError:
    return ServiceError(
        "ParameterMaxVersionLimitExceeded",
        f"You attempted to create a new version of {name} by calling the PutParameter API "
        f"with the overwrite flag. Version {oldest}, the oldest version, can't be deleted "
        "because it has a label associated with it. Move the label to another version of "
        "the parameter, and try again.",
    )


def label_limit() -> ServiceError:
    return ServiceError(
        "ParameterVersionLabelLimitExceeded",
        "An error occurred when adding the labels: a parameter version can have a maximum "
        "of 10 labels.",
    )


def parameter_limit(tier: str, limit: int) -> ServiceError:
    return ServiceError(
        "ParameterLimitExceeded",
        f"You have exceeded the number of {tier.lower()} parameters ({limit:,}) for this "
        "account and Region. Delete one or more parameters and try again.",
    )


def invalid_key_id(message: str) -> ServiceError:
    return ServiceError("InvalidKeyId", message)


def policies_limit() -> ServiceError:
    return ServiceError(
        "PoliciesLimitExceededException",
        "You specified more than the maximum number of allowed policies for the parameter. "
        "The maximum is 10.",
    )


def invalid_policy_type(kind: object) -> ServiceError:
    return ServiceError(
        "InvalidPolicyTypeException",
        f"The policy type {kind} isn't supported. Parameter Store supports the following "
        "policy types: Expiration, ExpirationNotification, and NoChangeNotification.",
    )


def invalid_policy_attribute(message: str) -> ServiceError:
    return ServiceError("InvalidPolicyAttributeException", message)


def incompatible_policy(message: str) -> ServiceError:
    return ServiceError("IncompatiblePolicyException", message)


def too_many_tags() -> ServiceError:
    return ServiceError(
        "TooManyTagsError",
        "The Tags parameter contains too many tags: a parameter can have at most 50 tags.",
    )


def invalid_resource_id(resource_id: str) -> ServiceError:
    return ServiceError("InvalidResourceId", f"The resource ID {resource_id} isn't valid.")


def invalid_resource_type(resource_type: str) -> ServiceError:
    return ServiceError(
        "InvalidResourceType",
        f"The resource type {resource_type} isn't valid: Strongroom tags only resources of "
        "type Parameter.",
    )


def invalid_filter_key(message: str) -> ServiceError:
    return ServiceError("InvalidFilterKey", message)


def invalid_filter_option(message: str) -> ServiceError:
    return ServiceError("InvalidFilterOption", message)


def invalid_filter_value(message: str) -> ServiceError:
    return ServiceError("InvalidFilterValue", message)


def invalid_next_token() -> ServiceError:
    return ServiceError("InvalidNextToken", "The specified token isn't valid.")


def setting_not_found(setting_id: str) -> ServiceError:
    return ServiceError(
        "ServiceSettingNotFound",
        f"The service setting {setting_id} wasn't found. Strongroom provides "
        "/ssm/parameter-store/default-parameter-tier and "
        "/ssm/parameter-store/high-throughput-enabled.",
    )


def resource_not_found(arn: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"The specified parameter to be shared could not be found: {arn}",
    )


def policy_invalid_parameter(message: str) -> ServiceError:
    return ServiceError("ResourcePolicyInvalidParameterException", message)


def malformed_policy(message: str) -> ServiceError:
    return ServiceError("MalformedResourcePolicyDocumentException", message)


def policy_conflict() -> ServiceError:
    return ServiceError(
        "ResourcePolicyConflictException",
        "The hash provided in the call doesn't match the stored hash: the policy was "
        "changed since it was read.",
    )


def policy_not_found() -> ServiceError:
    return ServiceError(
        "ResourcePolicyNotFoundException",
        "No policies with the specified policy ID and hash could be found.",
    )


def policy_limit(message: str) -> ServiceError:
    return ServiceError("ResourcePolicyLimitExceededException", message)
