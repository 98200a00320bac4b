-- ildflow: tell ildflow that a study became stable in Orthanc, so cases awaiting it resume (docs/pacs.md).
-- docker-compose.yml mounts this file into the orthanc service and lists it in ORTHANC__LUA_SCRIPTS.
-- From Orthanc's environment:
--   ILDFLOW_API_URL     the ildflow API as Orthanc reaches it, e.g. http://api:8080
--   ILDFLOW_PACS_TOKEN  the bearer token of an ildflow user with the pacs role
-- Without both it does nothing. HttpPost is fire-and-forget: the worker's poll of Orthanc's /changes
-- (ILDFLOW_ORTHANC_URL) reconciles any event this misses, and a study can turn stable more than once.
local api = os.getenv('ILDFLOW_API_URL')
local token = os.getenv('ILDFLOW_PACS_TOKEN')

function OnStableStudy(studyId, tags, metadata)
  if api == nil or api == '' or token == nil or token == '' then return end
  -- `tags` holds study-level tags only: the PatientID comes from the study resource.
  local study = ParseJson(RestApiGet('/studies/' .. studyId))
  HttpPost(api .. '/v1/triggers/orthanc',
    DumpJson({ event = 'StableStudy', orthancStudyId = studyId,
               studyInstanceUID = tags['StudyInstanceUID'], accessionNumber = tags['AccessionNumber'],
               patientID = study['PatientMainDicomTags']['PatientID'] }, true),
    { ['Content-Type'] = 'application/json', ['Authorization'] = 'Bearer ' .. token })
end
