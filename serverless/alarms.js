// @ts-check
/**
 * The alarms, one row each (included by serverless.yml as `${file(./serverless/alarms.js):resources}`). Each
 * dead-letter queue alarms as soon as it holds a message (SQS publishes its metrics every 5 minutes), each state
 * machine as soon as an execution fails. Actions: the alarmTopicArn param's topic; none when it is '' (serverless.yml's
 * HasAlarmTopic condition).
 */

/** A dead-letter queue's alarm: its logical id and name suffix, what its messages are, its queue's logical id. */
const QUEUES = [
  [
    'RequestsDeadLetterQueueAlarm',
    'requests-dlq',
    'Requests sqsSubmit failed on 5 times (RequestsDeadLetterQueue); read them, fix, redrive',
    'RequestsDeadLetterQueue',
  ],
  [
    'EventsDeadLetterQueueAlarm',
    'events-dlq',
    'Events EventBridge could not deliver (eventSubmit, the reconciler schedule) after its retries (EventsDeadLetterQueue)',
    'EventsDeadLetterQueue',
  ],
  [
    'SchedulesDeadLetterQueueAlarm',
    'schedules-dlq',
    'Schedule firings EventBridge Scheduler could not deliver to scheduleTarget (SchedulesDeadLetterQueue)',
    'SchedulesDeadLetterQueue',
  ],
  [
    'InvocationsDeadLetterQueueAlarm',
    'invocations-dlq',
    'Asynchronous invocations that failed after their retries (eventSubmit, scheduleTarget, reconcile; InvocationsDeadLetterQueue)',
    'InvocationsDeadLetterQueue',
  ],
  [
    'NotificationsDeadLetterQueueAlarm',
    'notifications-dlq',
    'Notifications a webhook or SNS target did not take after every retry (NotificationsDeadLetterQueue)',
    'NotificationsDeadLetterQueue',
  ],
];

/** A state machine's alarm: its logical id and name suffix, what failed, the state machine's logical id. */
const MACHINES = [
  [
    'ProvisionClusterExecutionsFailedAlarm',
    'provision-executions-failed',
    'A provision workflow execution failed (a Lambda task error no Catch handled, or a States error)',
    'ProvisionClusterStateMachine',
  ],
  [
    'DeleteClusterExecutionsFailedAlarm',
    'delete-executions-failed',
    'A delete workflow execution failed (a Lambda task error no Catch handled, or a States error)',
    'DeleteClusterStateMachine',
  ],
];

/** @typedef {{ resolveVariable: (variable: string) => Promise<unknown> }} Context */

/** @param {Context} context */
export const resources = async ({ resolveVariable }) => {
  const prefix = String(await resolveVariable('self:custom.prefix'));
  const topic = String(await resolveVariable('param:alarmTopicArn'));
  const alarm = (
    /** @type {string} */ suffix,
    /** @type {string} */ description,
    /** @type {Record<string, unknown>} */ metric,
    /** @type {string} */ statistic,
  ) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${prefix}-${suffix}`,
      AlarmDescription: description,
      ...metric,
      Statistic: statistic,
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: { 'Fn::If': ['HasAlarmTopic', [topic], { Ref: 'AWS::NoValue' }] },
    },
  });
  return {
    Resources: Object.fromEntries([
      ...QUEUES.map(([id, suffix, description, queue]) => [
        id,
        alarm(
          suffix,
          description,
          {
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
          },
          'Maximum',
        ),
      ]),
      ...MACHINES.map(([id, suffix, description, machine]) => [
        id,
        alarm(
          suffix,
          description,
          { Namespace: 'AWS/States', MetricName: 'ExecutionsFailed', Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machine } }] },
          'Sum',
        ),
      ]),
    ]),
  };
};
